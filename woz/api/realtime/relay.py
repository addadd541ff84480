"""Hearing a voice session held by another woz process, over the dispatcher's state.

With several woz processes (a shared, Redis-backed dispatcher), a console's
`/operator/voice/{session}` socket may reach a process other than the one that
holds the Realtime session. Then:

- the holding process registers the session under `vs:<session>` (its study's
  conversation, with a TTL renewed while it lasts) and says it is alive under
  `va:<session>` (a heartbeat of `ALIVE_TTL_S`, renewed every `BEAT_S`);
- while the session is open, its frames (state, and the audio of utterances as
  they are spoken) are published on the channel `voice:<session>` by one writer
  per session, in order, from a bounded queue (a Redis too slow loses the oldest
  audio, never holds the session back);
- a process with listeners subscribes to that channel while they listen, and
  hands each frame to their queues; the session's end (a final frame), or its
  heartbeat running out (its process died), ends their sockets.

Everything is under the study's key prefix, so a study's operators never find
another study's sessions. The memory dispatcher has no relay: one process holds
every session and its listeners.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from typing import Any

import structlog
from pydantic import BaseModel

from woz.dispatch.backend import VoiceFrame
from woz.dispatch.kv import KeyValue, StateUnavailable

log = structlog.get_logger(__name__)

Frame = bytes | dict[str, Any] | None  # None: the session ended
QUEUE_FRAMES = 500  # some 50 s of audio in 100 ms appends
ALIVE_TTL_S = 15.0  # a session whose process died is noticed in this time
BEAT_S = 5.0
DOC_TTL_S = 3600.0  # the session's registration, renewed every DOC_RENEW_S
DOC_RENEW_S = 600.0
END_WAIT_S = 2.0  # for the last frames to leave when the session closes


class SessionDoc(BaseModel):
    """A voice session as another process needs to know it."""

    study: str
    conversation_id: str


def session_key(session_id: str) -> str:
    return f"vs:{session_id}"


def alive_key(session_id: str) -> str:
    return f"va:{session_id}"


def channel(session_id: str) -> str:
    return f"voice:{session_id}"


def put_latest(queue: asyncio.Queue[Any], frame: Any) -> None:
    """Queue `frame`; a full queue loses its oldest (a slow reader hears the latest)."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(frame)


class Relay:
    """Publishes one open session's frames for listeners on other processes."""

    def __init__(self, kv: KeyValue, session_id: str, doc: SessionDoc) -> None:
        self._kv = kv
        self._id = session_id
        self._doc = doc
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_FRAMES)
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._failing = False

    async def open(self) -> None:
        """Register the session and start publishing; a state out of reach only means
        that no other process hears it."""
        try:
            await self._register()
        except StateUnavailable as exc:
            log.warning("voice.relay_unavailable", session_id=self._id, error=str(exc))
        self._writer = asyncio.create_task(self._write())

    def put(self, frame: bytes | dict[str, Any]) -> None:
        put_latest(self._queue, frame)

    async def close(self) -> None:
        """Forget the session (its keys go at once: no one finds it any more), then
        publish its last frames and its end to those who listen."""
        if self._writer is None:
            return
        self._closing = True
        with contextlib.suppress(StateUnavailable):
            async with self._kv.txn() as t:
                t.delete(session_key(self._id))
                t.delete(alive_key(self._id))
        put_latest(self._queue, None)
        done, _ = await asyncio.wait({self._writer}, timeout=END_WAIT_S)
        if not done:
            self._writer.cancel()

    async def _register(self) -> None:
        async with self._kv.txn() as t:
            t.put(session_key(self._id), self._doc, DOC_TTL_S)
        await self._kv.heartbeat(alive_key(self._id), ALIVE_TTL_S)

    async def _write(self) -> None:
        """One writer: frames leave in the order they were put; heartbeats between."""
        beat = registered = time.monotonic()
        while True:
            try:
                frame, got = await asyncio.wait_for(self._queue.get(), BEAT_S), True
            except TimeoutError:
                frame, got = None, False  # nothing came: only time to beat
            now = time.monotonic()
            try:
                if self._closing:
                    pass  # its keys are gone: they stay so
                elif now - registered >= DOC_RENEW_S:
                    registered = beat = now
                    await self._register()
                elif now - beat >= BEAT_S:
                    beat = now
                    await self._kv.heartbeat(alive_key(self._id), ALIVE_TTL_S)
                if got:
                    await self._kv.send(channel(self._id), self._event(frame))
                self._failing = False
            except StateUnavailable as exc:
                if not self._failing:  # once, not for every frame lost
                    log.warning("voice.relay_unavailable", session_id=self._id, error=str(exc))
                self._failing = True
            if got and frame is None:
                return

    def _event(self, frame: Frame) -> VoiceFrame:
        if frame is None:
            return VoiceFrame(session_id=self._id, ended=True)
        if isinstance(frame, bytes):
            return VoiceFrame(session_id=self._id, audio=base64.b64encode(frame).decode())
        return VoiceFrame(session_id=self._id, state=frame)


async def find(kv: KeyValue, session_id: str) -> SessionDoc | None:
    """The session, if another process holds it open now."""
    try:
        async with kv.snapshot() as t:
            doc = await t.get(session_key(session_id), SessionDoc)
        return doc if doc is not None and await kv.alive(alive_key(session_id)) else None
    except StateUnavailable:
        return None


async def still_open(kv: KeyValue, session_id: str) -> bool:
    """Whether the session's process still says it is open (a listener's idle check)."""
    try:
        return await kv.alive(alive_key(session_id))
    except StateUnavailable:
        return True  # not known: the next check decides


class RemoteListeners:
    """The listeners of this process to sessions held by others: one subscription per
    session, while anyone here listens."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Frame]]] = {}

    async def join(self, kv: KeyValue, session_id: str) -> asyncio.Queue[Frame]:
        queue: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_FRAMES)
        queues = self._queues.get(session_id)
        if queues is None:
            queues = self._queues[session_id] = set()
            queues.add(queue)
            try:
                await kv.subscribe(channel(session_id), self._deliver)
            except Exception as exc:
                self._queues.pop(session_id, None)
                raise StateUnavailable(f"cannot subscribe: {exc}") from exc
        else:
            queues.add(queue)
        return queue

    async def leave(self, kv: KeyValue, session_id: str, queue: asyncio.Queue[Frame]) -> None:
        queues = self._queues.get(session_id)
        if queues is None:
            return
        queues.discard(queue)
        if not queues:
            del self._queues[session_id]
            with contextlib.suppress(Exception):  # a lost Redis forgets it anyway
                await kv.unsubscribe(channel(session_id))

    def _deliver(self, event: BaseModel) -> None:
        if not isinstance(event, VoiceFrame):
            return
        frame: Frame
        if event.ended:
            frame = None
        elif event.audio is not None:
            frame = base64.b64decode(event.audio)
        elif event.state is not None:
            frame = event.state
        else:
            return
        for queue in self._queues.get(event.session_id, ()):
            put_latest(queue, frame)
