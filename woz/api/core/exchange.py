"""One API request from its submitted task to its last byte: what every facade shares.

A facade parses its wire format into a `Task`, submits it, and hands the
`TaskHandle` to its subclass of `Exchange`, which only knows how to render:
`body()` for a plain JSON response, the `stream_*` hooks for server-sent events.
The base class does the rest the same way for every dialect:

- it waits for the answer, noticing a client that left (aiohttp does not cancel
  the handler) and, when streaming, sending the dialect's keep-alive;
- in live mode it streams the stable words of the operator's draft through
  `stream_text` and tells the dispatcher those words can no longer change;
- it renders nothing of an answer before the answer is committed (a `Delivery`
  exists only after the record does);
- it reports the outcome to the dispatcher exactly once, even when the handler
  is cancelled at shutdown, so a task is revoked or its record marked delivered;
- an error after a stream began is sent as the dialect's error frame, never as a
  broken stream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from woz.api.core.errors import INTERNAL_MESSAGE, as_client_sees
from woz.api.core.pacing import paced, pacing_for
from woz.api.core.sse import ClientGone, EventStream
from woz.api.core.waiting import await_delivery
from woz.context import ANSWER_STATS, SETTINGS, SUBMITTED_TASK, runtime_of
from woz.dispatch.base import Dispatcher, TaskHandle
from woz.errors import ErrorKind, WozError, invalid_request
from woz.jsontext import json_response
from woz.models.task import Answer

log = structlog.get_logger(__name__)


def stable_prefix(draft: str) -> str:
    """The part of a live draft that ends at a word boundary (the last space or newline).

    The word being typed may still change; the ones before it are sent.
    """
    return draft[: max(draft.rfind(" "), draft.rfind("\n")) + 1]


class Exchange(ABC):
    """One request's wait, rendering, and report back to the dispatcher."""

    def __init__(self, request: web.Request, handle: TaskHandle) -> None:
        self.request = request
        self.handle = handle
        self.task = handle.task
        request[SUBMITTED_TASK] = handle.task.id
        self.settings = request.app[SETTINGS]
        self.pacing = runtime_of(request).study.pacing
        self.dispatcher: Dispatcher = runtime_of(request).dispatcher
        self.streamed = ""  # live-mode text already sent; the answer starts with it
        self._first_token_sent = False

    def run(self) -> Coroutine[Any, Any, web.StreamResponse]:
        """Answer the request, as a stream if the app asked for one.

        Not a coroutine itself: it returns the one that does the work, so a request
        waiting for a human keeps one frame fewer alive."""
        if self.task.stream:
            return self.stream()
        return self.respond()

    async def respond(self) -> web.StreamResponse:
        """The whole answer as one JSON body; a `WozError` goes to the error middleware."""
        delivered = False
        try:
            delivery = await await_delivery(
                self.request, self.handle, poll_s=self.settings.disconnect_poll_s
            )
            await self.on_answer(delivery.answer)
            response = self.render(delivery.answer)
            # Written here, not by aiohttp after we return, so that `delivered`
            # means the bytes went out.
            await response.prepare(self.request)
            await response.write_eof()
            delivered = True
            return response
        except ClientGone:
            return web.Response(status=499)  # nobody is listening; the status is for the log
        finally:
            self._finish(delivered)

    async def stream(self) -> web.StreamResponse:
        """Headers and the dialect's opening frames at once, then the answer as it comes."""
        events = EventStream(self.request)
        delivered = False
        try:
            await events.open()
            await self.stream_start(events)
            try:
                delivery = await await_delivery(
                    self.request,
                    self.handle,
                    poll_s=self.settings.disconnect_poll_s,
                    keepalive_s=self.settings.keepalive_s,
                    keepalive=lambda: self.stream_keepalive(events),
                    on_draft=(lambda draft: self._live(events, draft)) if self.task.live else None,
                )
                await self.on_answer(delivery.answer)
                await self.stream_answer(events, delivery.answer)
                delivered = True
            except WozError as error:
                deception = runtime_of(self.request).study.study.deception
                await self.stream_error(events, as_client_sees(error, deception))
            except ClientGone:
                raise
            except Exception:  # a bug; the client still gets a well-formed ending
                log.exception("api.stream_failed", api=self.task.api)
                internal = WozError(ErrorKind.INTERNAL, INTERNAL_MESSAGE)
                await self.stream_error(events, internal)
            await events.close()
        except ClientGone:
            pass
        finally:
            self._finish(delivered)
        return events.response

    def _finish(self, delivered: bool) -> None:
        """Report the outcome to the dispatcher; count an answer for the log's summary."""
        self.dispatcher.finish(self.handle, delivered=delivered)
        if delivered:
            waited = datetime.now(UTC) - self.task.received_at
            self.request.app[ANSWER_STATS].answered(waited.total_seconds())

    async def _live(self, events: EventStream, draft: str) -> None:
        stable = stable_prefix(draft)
        # An operator who deletes words already sent cannot take them back: wait
        # until the draft grows past what the participant has seen again.
        if stable.startswith(self.streamed) and len(stable) > len(self.streamed):
            piece, self.streamed = stable[len(self.streamed) :], stable
            self.handle.mark_streamed(stable)
            self._first_token_sent = True
            await self.stream_text(events, piece)

    async def paced(self, text: str) -> AsyncIterator[str]:
        """`text` in pieces on the schedule of the task's arm, else the study's.

        The first-token delay is waited once per answer, and not at all after live text.
        """
        rate, first_delay = pacing_for(self.task, self.pacing)
        delay = 0.0 if self._first_token_sent else first_delay
        async for piece in paced(text, rate, delay):
            self._first_token_sent = True
            yield piece

    def unsent_text(self, answer: Answer) -> str:
        """The answer's text that live mode has not streamed yet."""
        return (answer.content or "")[len(self.streamed) :]

    # -- what a dialect provides -----------------------------------------------

    async def on_answer(self, answer: Answer) -> None:  # noqa: B027 - optional hook
        """The committed answer arrived; nothing of it has been rendered yet."""

    @abstractmethod
    def body(self, answer: Answer) -> dict[str, Any]:
        """The non-streaming response body."""

    def render(self, answer: Answer) -> web.Response:
        """The non-streaming response: `body()` as JSON, unless the dialect answers in text."""
        return json_response(self.body(answer))

    @abstractmethod
    async def stream_start(self, events: EventStream) -> None:
        """The frames sent at once, before any answer exists."""

    async def stream_keepalive(self, events: EventStream) -> None:
        """A frame that keeps proxies and clients from timing out while a human thinks."""
        await events.comment()

    @abstractmethod
    async def stream_text(self, events: EventStream, piece: str) -> None:
        """Live mode: `piece` of the answer's text, before the answer is committed."""

    @abstractmethod
    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        """The rest of the answer (after `self.streamed`) and the stream's ending."""

    @abstractmethod
    async def stream_error(self, events: EventStream, error: WozError) -> None:
        """An error after the stream began, in the dialect's shape."""


class NonStreamingExchange(Exchange):
    """An endpoint that never streams: asking it to is a 400 naming `stream`."""

    def _refuse(self) -> WozError:
        return invalid_request(
            f"{self.task.api} does not stream; send `stream: false`.", param="stream"
        )

    async def stream_start(self, events: EventStream) -> None:
        raise self._refuse()

    async def stream_text(self, events: EventStream, piece: str) -> None:
        raise self._refuse()

    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        raise self._refuse()

    async def stream_error(self, events: EventStream, error: WozError) -> None:
        raise self._refuse()
