"""`WozClient`: the synchronous client."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx

from woz_client._calls import DONE, Call, Chat, Completions, Participant, result, sse_event

DEFAULT_TIMEOUT = 600.0  # a person answers more slowly than a model


class WozClient:
    """A woz server at `base_url` (its root, e.g. `http://127.0.0.1:8000`), with an app key.

    `chat.completions.create(...)` answers like the `openai` SDK (attribute access,
    `stream=True` for an iterator of chunks); `participant(id)` binds a
    participant (and a conversation) for consent, debrief, withdrawal and chat.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx.Client | None = None,
    ) -> None:
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self.chat: Chat[Any, Iterator[Any]] = Chat(Completions(self._send, self._stream, {}))

    def participant(
        self, participant_id: str, *, conversation: str | None = None
    ) -> Participant[Any, Iterator[Any]]:
        return Participant(participant_id, conversation, self._send, self._stream)

    def study(self) -> Any:
        """The study's consent text (and its hash), debrief policy and text, permitted uses."""
        return self._send(Call("GET", "/woz/study"))

    def _send(self, call: Call) -> Any:
        response = self._http.request(
            call.method, call.path, json=call.body, headers={**self._auth, **call.headers}
        )
        return result(response.status_code, response.text)

    def _stream(self, call: Call) -> Iterator[Any]:
        headers = {**self._auth, **call.headers}
        with self._http.stream(call.method, call.path, json=call.body, headers=headers) as response:
            if response.status_code >= 400:
                result(response.status_code, response.read().decode())
            for line in response.iter_lines():
                event = sse_event(line)
                if event is DONE:
                    return
                if event is not None:
                    yield event

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WozClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
