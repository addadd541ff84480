"""`AsyncWozClient`: the asyncio client, the same calls as `WozClient` but awaited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from types import TracebackType
from typing import Any

import httpx

from woz_client._calls import DONE, Call, Chat, Completions, Participant, result, sse_event
from woz_client.client import DEFAULT_TIMEOUT


class AsyncWozClient:
    """Like `WozClient`; every call is awaited, and a stream is iterated with `async for`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)
        self._auth = {"Authorization": f"Bearer {api_key}"}
        self.chat: Chat[Awaitable[Any], AsyncIterator[Any]] = Chat(
            Completions(self._send, self._stream, {})
        )

    def participant(
        self, participant_id: str, *, conversation: str | None = None
    ) -> Participant[Awaitable[Any], AsyncIterator[Any]]:
        return Participant(participant_id, conversation, self._send, self._stream)

    async def study(self) -> Any:
        """The study's consent text (and its hash), debrief policy and text, permitted uses."""
        return await self._send(Call("GET", "/woz/study"))

    async def _send(self, call: Call) -> Any:
        response = await self._http.request(
            call.method, call.path, json=call.body, headers={**self._auth, **call.headers}
        )
        return result(response.status_code, response.text)

    async def _stream(self, call: Call) -> AsyncIterator[Any]:
        headers = {**self._auth, **call.headers}
        async with self._http.stream(
            call.method, call.path, json=call.body, headers=headers
        ) as response:
            if response.status_code >= 400:
                result(response.status_code, (await response.aread()).decode())
            async for line in response.aiter_lines():
                event = sse_event(line)
                if event is DONE:
                    return
                if event is not None:
                    yield event

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncWozClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
