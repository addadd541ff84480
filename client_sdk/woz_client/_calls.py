"""What a woz client asks for, independent of how it is sent (sync or async).

Every method of `Participant` and `Completions` builds a `Call` and hands it to
the transport it was created with; `WozClient` sends calls with `httpx.Client`,
`AsyncWozClient` with `httpx.AsyncClient`, so the two clients share every line
but the sending.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from woz_client._objects import WozAPIError, wrap

R = TypeVar("R")  # what a call returns: a result, or an awaitable of one
S = TypeVar("S")  # what a streaming call returns: an iterator, or an async iterator

PARTICIPANT_HEADER = "X-Woz-Participant"
CONVERSATION_HEADER = "X-Woz-Conversation"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def result(status: int, text: str) -> Any:
    """The JSON body of a response as attribute-access objects, or `WozAPIError`."""
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = {"error": {"message": text or f"HTTP {status}"}}
    if status >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        message = error.get("message") if isinstance(error, dict) else None
        code = error.get("code") or error.get("type") if isinstance(error, dict) else None
        raise WozAPIError(status, code, message or f"HTTP {status}")
    return wrap(body)


DONE = object()
"""What `sse_event` returns for the stream's `data: [DONE]`."""


def sse_event(line: str) -> Any:
    """One line of a server-sent event stream: a JSON event, `DONE`, or None to skip."""
    if not line.startswith("data:"):
        return None  # comments (keep-alives), event names, blank separators
    data = line[5:].strip()
    if data == "[DONE]":
        return DONE
    return wrap(json.loads(data))


class Completions(Generic[R, S]):
    """`chat.completions.create(...)`, the same shape as the `openai` SDK's."""

    def __init__(
        self,
        send: Callable[[Call], R],
        stream: Callable[[Call], S],
        headers: Mapping[str, str],
    ) -> None:
        self._send = send
        self._stream = stream
        self._headers = dict(headers)

    def create(
        self, *, model: str, messages: list[dict[str, Any]], stream: bool = False, **kwargs: Any
    ) -> R | S:
        body = {"model": model, "messages": messages, "stream": stream, **kwargs}
        call = Call("POST", "/v1/chat/completions", body, self._headers)
        return self._stream(call) if stream else self._send(call)


class Chat(Generic[R, S]):
    def __init__(self, completions: Completions[R, S]) -> None:
        self.completions = completions


class Participant(Generic[R, S]):
    """One participant of the study, named by the app's own id, optionally in a conversation.

    Research calls go to `/woz/participants/{id}`; `chat` sends the participant
    (and conversation) headers with every request, so woz pseudonymises and
    threads them. Each method returns what the server says about the participant.
    """

    def __init__(
        self,
        participant_id: str,
        conversation: str | None,
        send: Callable[[Call], R],
        stream: Callable[[Call], S],
    ) -> None:
        self.id = participant_id
        self.conversation = conversation
        self._send = send
        self._path = f"/woz/participants/{quote(participant_id, safe='')}"
        headers = {PARTICIPANT_HEADER: participant_id}
        if conversation is not None:
            headers[CONVERSATION_HEADER] = conversation
        self.chat = Chat(Completions(send, stream, headers))

    def status(self) -> R:
        """Consent, debrief and withdrawal status, and the participant's own page link."""
        return self._send(Call("GET", self._path))

    def consent(
        self,
        *,
        scopes: list[str] | None = None,
        method: str = "client_sdk",
        version: str | None = None,
        text_sha256: str | None = None,
    ) -> R:
        """Record the participant's consent (to the study's current text unless named)."""
        body: dict[str, Any] = {"method": method}
        for name, value in (("scopes", scopes), ("version", version), ("text_sha256", text_sha256)):
            if value is not None:
                body[name] = value
        return self._send(Call("POST", self._path + "/consent", body))

    def notice(self) -> R:
        """The participant was shown the pre-session notice."""
        return self._send(Call("POST", self._path + "/notice", {}))

    def debrief(self) -> R:
        """The participant was shown the study's debrief text (`WozClient.study()`)."""
        return self._send(Call("POST", self._path + "/debrief", {}))

    def reconsent(self, granted: bool, *, scopes: list[str] | None = None) -> R:
        """After the debrief: may the study keep the participant's data (for `scopes`)?"""
        body: dict[str, Any] = {"granted": granted}
        if scopes is not None:
            body["scopes"] = scopes
        return self._send(Call("POST", self._path + "/reconsent", body))

    def withdraw(self) -> R:
        """Delete the participant's data from the study; woz keeps only a tombstone."""
        return self._send(Call("POST", self._path + "/withdraw", {}))
