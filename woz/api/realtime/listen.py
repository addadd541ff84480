"""Wizards hear the participant live: `GET /operator/voice/{session_id}` (WebSocket).

A Realtime session is announced to the operator chosen to answer it as soon as it
opens (the `voice_session` frame of the operator protocol; the dispatcher records
that operator as the conversation's owner, so its tasks follow by affinity), and
each of its tasks names it again (`voice.session_id`). A console told of a session
opens this socket and, for as long as the session lasts, hears each utterance
while it is being spoken (binary frames of PCM16 at 24 kHz, from the VAD's prefix
padding on), the first one included, and sees the session's state in text frames:
`speech_started` / `speech_stopped` / `committed` (with the utterance's
`item_id`), and `reply` (`speaking`, `interrupted`, `done`). The task that
follows each utterance still carries the whole recording, so a console that
missed the live audio plays that instead.

Only the operator the session's conversation is routed to hears it (its owner in
the dispatcher), and only in their own study: anyone else gets a 404, as for a
session that has ended; a listener whose conversation passes to another operator
is cut off at the next utterance. Operators authenticate as for the operator
socket (a bearer token, or the console's cookie from an allowed origin). Each
listener's queue is bounded: a listener that falls behind loses audio rather
than holding the session back. With several woz processes the session may be
held by another one: its frames then come over the dispatcher's state
(`woz.api.realtime.relay`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from woz.api.realtime import relay
from woz.api.realtime.relay import QUEUE_FRAMES, Frame, Relay, RemoteListeners, put_latest
from woz.context import runtime_of
from woz.dispatch.kv import KeyValue, StateUnavailable
from woz.jsontext import dumps
from woz.operators.hub import authenticate_operator

IDLE_CHECK_S = 5.0  # a listener to another process's session checks it is still open


@dataclass
class _Open:
    """A session held by this process."""

    study_id: str
    conversation_id: str
    listeners: set[asyncio.Queue[Frame]] = field(default_factory=set)
    relay: Relay | None = None  # its frames to other processes (shared dispatchers)


@dataclass
class Listening:
    """One listener's queue, and what it listens to."""

    session_id: str
    conversation_id: str
    queue: asyncio.Queue[Frame]
    remote: KeyValue | None = None  # the state the frames come through, if relayed


class LiveVoice:
    """The open sessions of this process and who listens to each, here or (through the
    relay) on other processes; and this process's listeners to others' sessions."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._remote = RemoteListeners()

    async def opened(
        self, session_id: str, study_id: str, conversation_id: str, kv: KeyValue
    ) -> None:
        session = self._open[session_id] = _Open(study_id, conversation_id)
        if kv.shared:
            doc = relay.SessionDoc(study=study_id, conversation_id=conversation_id)
            session.relay = Relay(kv, session_id, doc)
            await session.relay.open()

    async def closed(self, session_id: str) -> None:
        session = self._open.pop(session_id, None)
        if session is None:
            return
        for queue in session.listeners:
            put_latest(queue, None)
        if session.relay is not None:
            await session.relay.close()

    def publish(self, session_id: str, frame: bytes | dict[str, Any]) -> None:
        session = self._open.get(session_id)
        if session is None:
            return
        for queue in session.listeners:
            put_latest(queue, frame)
        if session.relay is not None:
            session.relay.put(frame)

    def listening(self, session_id: str) -> bool:
        """Whether anyone may hear the session's audio now (with a relay, someone on
        another process may)."""
        session = self._open.get(session_id)
        return session is not None and (bool(session.listeners) or session.relay is not None)

    async def listen(self, session_id: str, study_id: str, kv: KeyValue) -> Listening | None:
        """A queue of the session's frames; None if it is not open, or of another study
        (an operator hears only their own study's sessions)."""
        session = self._open.get(session_id)
        if session is not None:
            if session.study_id != study_id:
                return None
            queue: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_FRAMES)
            session.listeners.add(queue)
            return Listening(session_id, session.conversation_id, queue)
        if not kv.shared:
            return None
        found = await relay.find(kv, session_id)  # under the study's own prefix
        if found is None or found.study != study_id:
            return None
        try:
            queue = await self._remote.join(kv, session_id)
        except StateUnavailable:
            return None  # as good as ended: the console hears each task's recording
        return Listening(session_id, found.conversation_id, queue, remote=kv)

    async def leave(self, listening: Listening) -> None:
        if listening.remote is not None:
            await self._remote.leave(listening.remote, listening.session_id, listening.queue)
            return
        session = self._open.get(listening.session_id)
        if session is not None:
            session.listeners.discard(listening.queue)


LIVE_VOICE = web.AppKey("live_voice", LiveVoice)


async def listen(request: web.Request) -> web.StreamResponse:
    key = await authenticate_operator(request)
    session_id = request.match_info["session_id"]
    runtime = runtime_of(request)
    live = request.app[LIVE_VOICE]
    heard = await live.listen(session_id, runtime.id, runtime.kv)
    try:
        owner = None if heard is None else await _owner(request, heard)
        if heard is None or owner != key.id:
            raise web.HTTPNotFound(
                text=dumps(
                    {"error": {"message": "This voice session has ended, or is not yours."}}
                ),
                content_type="application/json",
            )
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
        await ws.prepare(request)
        reader = asyncio.create_task(_drain(ws))  # notices the console leaving
        try:
            while (frame := await _next(heard, reader)) is not None:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                    continue
                if frame.get("type") == "speech_started" and await _owner(request, heard) != key.id:
                    break  # the conversation went to another operator
                await ws.send_str(dumps(frame))
        finally:
            reader.cancel()
        await ws.close()
        return ws
    finally:
        if heard is not None:
            await live.leave(heard)


async def _owner(request: web.Request, heard: Listening) -> str | None:
    return await runtime_of(request).dispatcher.conversation_owner(heard.conversation_id)


async def _next(heard: Listening, reader: asyncio.Task[None]) -> Frame:
    """The next frame; None when the session ended, or the console left."""
    while True:
        getter = asyncio.ensure_future(heard.queue.get())
        timeout = IDLE_CHECK_S if heard.remote is not None else None
        done, _ = await asyncio.wait(
            {getter, reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if reader in done:
            return None  # the console left
        assert heard.remote is not None
        if not await relay.still_open(heard.remote, heard.session_id):
            return None  # its process is gone


async def _drain(ws: web.WebSocketResponse) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.ERROR:
            break
