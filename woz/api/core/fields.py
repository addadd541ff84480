"""Reading a request body's fields: a field of the wrong shape is a 400 that names it.

`parse_body` validates a body against its wire model. The models leave some parts
open (`list[dict[str, Any]]` content parts, tool calls, sources), which the
facades' converters read with `obj`, `string` and `optional_string`: whatever a
client sends there, a value of the wrong type is an `invalid_request` whose
`param` is the field's path, such as `input[0].content[2].text`, never an
exception from deeper down (a 500). `json_schema` checks a schema the app gives
for the answer (a response format, a tool's parameters) before any operator sees it.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import jsonschema
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from woz.dispatch.validation import schema_validator
from woz.errors import invalid_request

M = TypeVar("M", bound=BaseModel)

Loc = tuple[int | str, ...]
_INSTANCE_OF = re.compile(r" or instance of \w+")


def parse_body(model: type[M], body: dict[str, Any]) -> M:
    """Validate `body`, turning its first problem into a 400 naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        param, problem = first_problem(exc, body)
        raise invalid_request(f"'{param}' {problem}.", param=param) from exc


def first_problem(error: ValidationError, body: Any) -> tuple[str, str]:
    """The field of `error`'s first problem with `body`, as a path in it such as
    `messages[0].role` (`body` for the body itself), and what is wrong with it.

    A field that may take several types (`str | list[...]`) fails once per type, under
    pydantic's name for each type (`input.str`, `input.list[dict[str,any]][0]`). Those
    names are not fields: the path keeps only what is in the body, and of the first
    field's failures, the one that went deepest into the value says what is wrong
    (the value was a list, so what spoiled the list), together with the others that
    failed at that same place ("a valid string or a valid list").
    """
    located = [(_in_body(problem, body), problem) for problem in error.errors()]
    first = located[0][0]
    same_field = [(loc, problem) for loc, problem in located if loc[: len(first)] == first]
    where = max((loc for loc, _ in same_field), key=len)
    there = [problem for loc, problem in same_field if loc == where]
    path = field_path(where) or "body"
    if there[0]["type"] == "missing":
        return path, "is required"
    # "a valid dictionary or instance of ChatMessage": the class is woz's, not the API's.
    messages = (_INSTANCE_OF.sub("", problem["msg"]) for problem in there)
    head, *others = dict.fromkeys(messages)
    reasons = [head, *(other.removeprefix("Input should be ") for other in others)]
    return path, "is invalid: " + " or ".join(reasons)


def _in_body(error: ErrorDetails, body: Any) -> Loc:
    """The part of `error`'s location that is in `body`: keys and indexes that exist,
    and the key a `missing` error names; without pydantic's names of union members."""
    loc = error["loc"]
    real: list[int | str] = []
    value = body
    for n, part in enumerate(loc):
        if isinstance(value, dict) and isinstance(part, str):
            if part in value:
                value = value[part]
            elif n == len(loc) - 1 and error["type"] == "missing":
                value = None
            else:
                continue
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            continue
        real.append(part)
    return tuple(real)


def field_path(loc: Loc) -> str:
    """`('messages', 0, 'role')` as `messages[0].role`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` if it is a JSON object; else a 400 on `where`."""
    if not isinstance(value, dict):
        raise invalid_request(f"'{where}' must be an object.", param=where)
    return value


def string(value: Any, where: str) -> str:
    """`value` if it is a string; else a 400 on `where`."""
    if not isinstance(value, str):
        raise invalid_request(f"'{where}' must be a string.", param=where)
    return value


def optional_string(value: Any, where: str) -> str | None:
    """`value` if it is a string or absent (null); else a 400 on `where`."""
    return None if value is None else string(value, where)


def json_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """`schema` if it is a valid JSON Schema (an operator's answer will be checked
    against it); else a 400 on `where` that says what is wrong, and where in it."""
    try:
        schema_validator(schema)
    except jsonschema.SchemaError as exc:
        inside = "/".join(str(part) for part in exc.absolute_path)
        at = f" at '{inside}'" if inside else ""
        problem = exc.message if len(exc.message) <= 200 else exc.message[:200] + "..."
        raise invalid_request(
            f"'{where}' is not a valid JSON Schema{at}: {problem}.", param=where
        ) from exc
    except RecursionError as exc:
        raise invalid_request(f"'{where}' is nested too deeply.", param=where) from exc
    return schema
