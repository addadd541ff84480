"""Wizards hear the participant live: `GET /operator/voice/{session_id}` (WebSocket).

A voice task's `voice.session_id` names its Realtime session. A console holding
such a task opens this socket and, for as long as the session lasts, hears each
utterance while it is being spoken (binary frames of PCM16 at 24 kHz, from the
VAD's prefix padding on) and sees the session's state in text frames:
`speech_started` / `speech_stopped` / `committed` (with the utterance's
`item_id`), and `reply` (`speaking`, `interrupted`, `done`). The task that follows
each utterance still carries the whole recording, so a console that missed the
live audio (it was not listening yet, or it reached another woz process than the
session's) plays that instead.

Operators authenticate as for the operator socket (a bearer token, or the
console's cookie from an allowed origin). Session ids are random and reach an
operator only in a task assigned to them. Each listener's queue is bounded: a
listener that falls behind loses audio rather than holding the session back.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
from aiohttp import web

from woz.context import runtime_of
from woz.jsontext import dumps
from woz.operators.hub import authenticate_operator

Frame = bytes | dict[str, Any] | None  # None: the session ended
QUEUE_FRAMES = 500  # some 50 s of audio in 100 ms appends


class LiveVoice:
    """The open sessions of this process, the study of each, and who listens to each."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[asyncio.Queue[Frame]]] = {}
        self._study: dict[str, str] = {}

    def opened(self, session_id: str, study_id: str) -> None:
        self._listeners[session_id] = set()
        self._study[session_id] = study_id

    def closed(self, session_id: str) -> None:
        self._study.pop(session_id, None)
        for queue in self._listeners.pop(session_id, set()):
            self._put(queue, None)

    def publish(self, session_id: str, frame: bytes | dict[str, Any]) -> None:
        for queue in self._listeners.get(session_id, ()):
            self._put(queue, frame)

    def listening(self, session_id: str) -> bool:
        return bool(self._listeners.get(session_id))

    def listen(self, session_id: str, study_id: str) -> asyncio.Queue[Frame] | None:
        """A queue of the session's frames; None if it is not open, or of another study
        (an operator hears only their own study's sessions)."""
        listeners = self._listeners.get(session_id)
        if listeners is None or self._study.get(session_id) != study_id:
            return None
        queue: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_FRAMES)
        listeners.add(queue)
        return queue

    def leave(self, session_id: str, queue: asyncio.Queue[Frame]) -> None:
        self._listeners.get(session_id, set()).discard(queue)

    @staticmethod
    def _put(queue: asyncio.Queue[Frame], frame: Frame) -> None:
        if queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()  # the oldest goes: a slow listener hears the latest
        queue.put_nowait(frame)


LIVE_VOICE = web.AppKey("live_voice", LiveVoice)


async def listen(request: web.Request) -> web.StreamResponse:
    await authenticate_operator(request)
    session_id = request.match_info["session_id"]
    live = request.app[LIVE_VOICE]
    queue = live.listen(session_id, runtime_of(request).id)
    if queue is None:
        raise web.HTTPNotFound(
            text=dumps({"error": {"message": "This voice session has ended."}}),
            content_type="application/json",
        )
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
    try:
        await ws.prepare(request)
        reader = asyncio.create_task(_drain(ws))  # notices the console leaving
        try:
            while (frame := await _next(queue, reader)) is not None:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(dumps(frame))
        finally:
            reader.cancel()
        await ws.close()
    finally:
        live.leave(session_id, queue)
    return ws


async def _next(queue: asyncio.Queue[Frame], reader: asyncio.Task[None]) -> Frame:
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    return None  # the console left


async def _drain(ws: web.WebSocketResponse) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.ERROR:
            break
