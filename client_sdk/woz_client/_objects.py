"""JSON as objects with attributes, like the `openai` SDK's responses, and the error type."""

from __future__ import annotations

from typing import Any


class WozAPIError(Exception):
    """The server refused a call: `status`, a stable `code` (such as `consent_required`)."""

    def __init__(self, status: int, code: str | None, message: str) -> None:
        super().__init__(f"{status} {code or 'error'}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Obj(dict[str, Any]):
    """A JSON object whose keys are also attributes: `reply.choices[0].message.content`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Obj({key: wrap(item) for key, item in value.items()})
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value
