"""One Realtime session: the state machine between the client's events and the wizard.

The session owns the input audio buffer, the voice detector, the conversation
and at most one response at a time. Client events are handled one after the
other, in order; a response runs in its own task so that audio keeps flowing
(and the user can speak over it) while the wizard answers.

Input audio: every `input_audio_buffer.append` is decoded to 24 kHz PCM16. With
server VAD the buffer keeps only the last `prefix_padding_ms` before speech; when
speech starts during a response (and `interrupt_response` is on) the response is
cancelled (barge-in); when speech stops the utterance is committed: saved as a
WAV for the wizard to hear (`/operator/media/...`), added as a user item, and
answered if `create_response` is on. Without VAD the client commits.

When the study does not keep audio (`[voice] keep_audio = false`), an utterance
lives only until its turn ends: then the file is deleted and no record or later
task points at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web

from woz.api.core.intake import intake
from woz.api.realtime import conversation as conv
from woz.api.realtime.announce import Announcer
from woz.api.realtime.audio import BadAudio, Decoder, b64decode, bytes_for_ms, ms_of, wav_of
from woz.api.realtime.config import Settings, tool_specs
from woz.api.realtime.events import (
    BufferAppend,
    BufferClear,
    BufferCommit,
    ClientEvent,
    EventError,
    ItemCreate,
    ItemDelete,
    ItemRetrieve,
    ItemTruncate,
    OutputAudioClear,
    ResponseCancel,
    ResponseCreate,
    SessionUpdate,
    error_event,
    event,
    parse_client_event,
)
from woz.api.realtime.listen import LIVE_VOICE
from woz.api.realtime.records import note_played
from woz.api.realtime.reply import Reply
from woz.api.realtime.vad import FRAME_MS, ONSET_FRAMES, SpeechStarted, Vad
from woz.context import MEDIA, PAGE_PARTICIPANT, SETTINGS, STORE, app_key, runtime_of
from woz.dispatch.backend import VoiceSession
from woz.dispatch.base import Dispatcher
from woz.errors import WozError
from woz.media.files import MEDIA_URL_PREFIX
from woz.media.speech import StudyVoice
from woz.models.pseudonyms import pseudonym
from woz.models.study import Persona, Study
from woz.models.task import ContentPart, Message, Task, new_id
from woz.research.conditions import Conditions

log = structlog.get_logger(__name__)

MAX_BUFFER_MS = 5 * 60 * 1000  # one utterance, or one manual buffer: five minutes at most
MIN_COMMIT_MS = 100  # the API's smallest committable buffer
SESSION_S = 30 * 60  # `expires_at`: the API's 30-minute session limit (advisory here)


class RealtimeSession:
    """The state of one `/v1/realtime` WebSocket."""

    def __init__(
        self, request: web.Request, ws: web.WebSocketResponse, persona: Persona, voice: str
    ) -> None:
        app = request.app
        self.request = request
        self.ws = ws
        self.persona = persona
        self.id = new_id("sess_", 12)
        runtime = runtime_of(request)
        self.study: Study = runtime.study
        self.store = app[STORE]
        self.media = app[MEDIA]
        self.dispatcher: Dispatcher = runtime.dispatcher
        self.voice: StudyVoice = runtime.speech
        self.voice_name = voice
        self.poll_s = app[SETTINGS].disconnect_poll_s
        self.keep_audio = self.study.voice.keep_audio
        self.settings = Settings(model=persona.id)
        self.conversation = conv.Conversation()
        # The same caller as `intake` names: a page participant is their own caller. An
        # app's `X-Woz-Conversation` names the conversation, else the session is one.
        page = request.get(PAGE_PARTICIPANT)
        caller = f"page:{page}" if page is not None else app_key(request).id
        facts = intake(request, b"", None)
        self.conversation_id = facts.conversation_id or pseudonym(
            runtime.secret, "conv", f"{caller}:{self.id}"
        )
        self.runtime = runtime
        notice = VoiceSession(
            operator="",
            session_id=self.id,
            conversation_id=self.conversation_id,
            model=persona.id,
            participant=facts.participant,
        )
        # Its wizard is told of it, to hear it live from the first utterance.
        self.announcer = Announcer(
            notice,
            self.dispatcher,
            runtime.admission,
            Conditions(self.study, self.store),
            facts.requested_arm,
        )
        self.started = time.time()
        self.reply: Reply | None = None
        self._send_lock = asyncio.Lock()
        self._decoder = Decoder(self.settings.input_format)
        self._vad: Vad | None = None
        self._buffer = bytearray()
        # The audio clock, in bytes of 24 kHz PCM16 appended since the session began: the
        # buffer holds the last `len(_buffer)` of them (bytes, not ms: no rounding drift).
        self._appended = 0
        self._speech_item: str | None = None  # the id the utterance being spoken will have
        self._speech_ended_at: datetime | None = None
        self._last_heard: conv.Item | None = None
        self._interrupted: dict[str, Any] | None = None  # the last reply cut short by speech
        self.live = app[LIVE_VOICE]  # wizards listening to this session as it is spoken
        self._reset_vad()

    @property
    def speed(self) -> float:
        return min(max(self.settings.speed * self.voice.plan.speed, 0.25), 4.0)

    # -- the socket ----------------------------------------------------------------

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one server event; a closed socket drops it (the session is ending)."""
        if self.ws.closed:
            return
        async with self._send_lock:
            # A client that left: the read loop notices and ends the session.
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await self.ws.send_json(frame)

    async def send_error(self, error: WozError, *, event_id: str | None) -> None:
        kind = {"invalid_request": "invalid_request_error"}.get(error.kind.value, "server_error")
        await self.send(
            error_event(
                EventError(
                    error.message,
                    code=error.code or error.kind.value,
                    param=error.param,
                    event_id=event_id,
                    kind=kind,
                )
            )
        )

    async def opened(self) -> None:
        await self.live.opened(self.id, self.study.id, self.conversation_id, self.runtime.kv)
        await self.send(event("session.created", session=self._wire()))
        self.announcer.announce()

    async def closed(self) -> None:
        """The socket closed: stop the response (its task is withdrawn) and tidy up."""
        await self.live.closed(self.id)
        await self.announcer.ended()
        if self.reply is not None and self.reply.runner is not None:
            self.reply.runner.cancel()
            await asyncio.gather(self.reply.runner, return_exceptions=True)

    async def handle(self, raw: str) -> None:
        try:
            parsed = parse_client_event(raw)
            await self._dispatch(parsed)
        except EventError as error:
            await self.send(error_event(error))
        except BadAudio as exc:
            await self.send(
                error_event(
                    EventError(f"Invalid 'audio': {exc}.", code="invalid_value", param="audio")
                )
            )

    async def _dispatch(self, parsed: ClientEvent) -> None:
        try:
            if isinstance(parsed, SessionUpdate):
                await self._update(parsed)
            elif isinstance(parsed, BufferAppend):
                await self._append(parsed)
            elif isinstance(parsed, BufferCommit):
                await self._commit_manual(parsed)
            elif isinstance(parsed, BufferClear):
                self._clear()
                await self.send(event("input_audio_buffer.cleared"))
            elif isinstance(parsed, ItemCreate):
                await self._create_item(parsed)
            elif isinstance(parsed, ItemTruncate):
                await self._truncate(parsed)
            elif isinstance(parsed, ItemDelete):
                await self._delete(parsed)
            elif isinstance(parsed, ItemRetrieve):
                item = self._item(parsed.item_id)
                await self.send(event("conversation.item.retrieved", item=item.wire))
            elif isinstance(parsed, ResponseCreate):
                await self._respond(parsed)
            elif isinstance(parsed, ResponseCancel):
                await self._cancel(parsed)
            elif isinstance(parsed, OutputAudioClear):
                self._interrupt("client_cancelled")
        except EventError as error:
            error.event_id = error.event_id or parsed.event_id
            raise

    # -- session.update ------------------------------------------------------------

    async def _update(self, update: SessionUpdate) -> None:
        given = update.session.model_fields_set
        new = self.settings.updated(update.session, given)
        if new.voice != self.settings.voice:
            if self.reply is not None or any(
                item.message.role == "assistant" for item in self.conversation.items
            ):
                raise EventError(
                    "Cannot update a conversation's voice if assistant audio is present.",
                    code="cannot_update_voice",
                    param="session.audio.output.voice",
                )
            resolved = await self.voice.resolve(new.voice)
            if resolved is None:
                raise EventError(
                    f"Invalid 'session.audio.output.voice': {new.voice!r} is not a voice of "
                    f"this study's {self.voice.engine.name} engine; use one of OpenAI's voice "
                    f"names (the study's voice, {self.voice.voice}, speaks).",
                    param="session.audio.output.voice",
                )
            self.voice_name = resolved
        if new.input_format != self.settings.input_format:
            self._decoder = Decoder(new.input_format)
        vad_changed = new.turn_detection != self.settings.turn_detection
        self.settings = new
        if vad_changed:
            self._reset_vad()
        await self.send(event("session.updated", session=self._wire()))

    def _wire(self) -> dict[str, Any]:
        return self.settings.wire(self.id, int(self.started) + SESSION_S)

    # -- input audio -----------------------------------------------------------------

    def _reset_vad(self) -> None:
        detection = self.settings.turn_detection
        position = ms_of(self._appended)
        self._vad = Vad(detection.threshold, detection.silence_duration_ms) if detection else None
        if self._vad is not None:
            self._vad.start_at(position)
        self._speech_item = None

    async def _append(self, append: BufferAppend) -> None:
        wire = b64decode(append.audio)
        pcm = (
            self._decoder.feed(wire)
            if len(wire) < 64_000
            else await asyncio.to_thread(self._decoder.feed, wire)
        )
        if ms_of(len(self._buffer) + len(pcm)) > MAX_BUFFER_MS and self._vad is None:
            raise EventError(
                f"The input audio buffer holds at most {MAX_BUFFER_MS // 1000} s: "
                "commit or clear it.",
                code="input_audio_buffer_full",
            )
        if self._vad is None:
            if not self._buffer:  # a manual turn begins
                self._speech_item = conv.item_id()
                self.announce("speech_started", item_id=self._speech_item)
                self.announcer.announce()
            self._buffer += pcm
            self._appended += len(pcm)
            self.live.publish(self.id, pcm)
            return
        self._buffer += pcm
        self._appended += len(pcm)
        vad = self._vad
        found = vad.feed(pcm) if len(pcm) < 96_000 else await asyncio.to_thread(vad.feed, pcm)
        started_now = False
        for change in found:
            if isinstance(change, SpeechStarted):
                await self._speech_started(change.audio_start_ms)
                started_now = True
            else:
                await self._speech_stopped(change.audio_end_ms, change.detected_ms)
        if vad.speaking and self.live.listening(self.id):
            # From the prefix padding on, as the utterance will be recorded.
            self.live.publish(self.id, bytes(self._buffer) if started_now else pcm)
        if not vad.speaking:
            self._keep_only_padding()
        elif ms_of(len(self._buffer)) > MAX_BUFFER_MS:
            await self._speech_stopped(vad.position_ms, vad.position_ms)
            vad.reset()

    @property
    def _buffer_start(self) -> int:
        """Where the buffer begins on the audio clock (bytes appended before it)."""
        return self._appended - len(self._buffer)

    def _keep_only_padding(self) -> None:
        detection = self.settings.turn_detection
        assert detection is not None
        keep = bytes_for_ms(detection.prefix_padding_ms + (ONSET_FRAMES + 1) * FRAME_MS)
        if len(self._buffer) > keep:
            del self._buffer[: len(self._buffer) - keep]

    async def _speech_started(self, start_ms: int) -> None:
        detection = self.settings.turn_detection
        assert detection is not None
        wanted = bytes_for_ms(max(0, start_ms - detection.prefix_padding_ms))
        cut = max(0, wanted - self._buffer_start)
        del self._buffer[:cut]
        self._speech_item = conv.item_id()
        self.announce("speech_started", item_id=self._speech_item)
        self.announcer.announce()
        if detection.interrupt_response:
            self._interrupt("turn_detected")
        await self.send(
            event(
                "input_audio_buffer.speech_started",
                audio_start_ms=start_ms,
                item_id=self._speech_item,
            )
        )

    async def _speech_stopped(self, end_ms: int, detected_ms: int) -> None:
        item_id = self._speech_item or conv.item_id()
        self.announce("speech_stopped", item_id=item_id)
        await self.send(
            event("input_audio_buffer.speech_stopped", audio_end_ms=end_ms, item_id=item_id)
        )
        cut = min(len(self._buffer), max(0, bytes_for_ms(detected_ms) - self._buffer_start))
        utterance = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        self._speech_item = None
        item = await self._commit(utterance, item_id)
        detection = self.settings.turn_detection
        if detection is not None and detection.create_response and self.reply is None:
            self._start_reply(None, item)

    async def _commit_manual(self, commit: BufferCommit) -> None:
        if ms_of(len(self._buffer)) < MIN_COMMIT_MS:
            raise EventError(
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has "
                f"{ms_of(len(self._buffer)):.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
            )
        utterance = bytes(self._buffer)
        item_id = self._speech_item or conv.item_id()
        self._clear()
        await self._commit(utterance, item_id)

    def _clear(self) -> None:
        self._buffer.clear()
        if self._vad is not None:
            self._vad.reset()
        self._speech_item = None

    async def _commit(self, pcm: bytes, item_id: str) -> conv.Item:
        """The utterance `pcm` becomes a user item, its audio saved for the wizard."""
        self._speech_ended_at = datetime.now(UTC)
        saved = await self._save(pcm)
        item = conv.audio_turn(saved, MEDIA_URL_PREFIX + saved, ms_of(len(pcm)))
        item.id = item.wire["id"] = item_id
        previous = self.conversation.add(item)
        self.announce("committed", item_id=item.id)
        await self.send(
            event("input_audio_buffer.committed", item_id=item.id, previous_item_id=previous)
        )
        await self.send(event("conversation.item.added", previous_item_id=previous, item=item.wire))
        await self.send(event("conversation.item.done", previous_item_id=previous, item=item.wire))
        self._last_heard = item
        return item

    async def _save(self, pcm: bytes) -> str:
        wav = await asyncio.to_thread(wav_of, pcm)

        async def chunks() -> AsyncIterator[bytes]:
            yield wav

        saved = await self.media.save(chunks(), "wav", len(wav) + 1)
        return saved.id

    # -- items and responses ---------------------------------------------------------

    async def _create_item(self, create: ItemCreate) -> None:
        audio = next(
            (p.audio for p in getattr(create.item, "content", []) if p.type == "input_audio"),
            None,
        )
        media_id = None
        if audio:
            decoder = Decoder(self.settings.input_format)
            pcm = await asyncio.to_thread(decoder.feed, b64decode(audio))
            media_id = await self._save(pcm)
        item = conv.from_client(create.item, MEDIA_URL_PREFIX + media_id if media_id else None)
        if media_id is not None:
            item.media_id = media_id
            self._speech_ended_at = datetime.now(UTC)
            self._last_heard = item
        previous = self.conversation.add(item)
        await self.send(event("conversation.item.added", previous_item_id=previous, item=item.wire))
        await self.send(event("conversation.item.done", previous_item_id=previous, item=item.wire))

    async def _respond(self, create: ResponseCreate) -> None:
        if self.reply is not None:
            raise EventError(
                f"Conversation already has an active response in progress: {self.reply.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
            )
        self._start_reply(create.response, self._last_heard)

    def _start_reply(self, params: Any, heard: conv.Item | None) -> None:
        reply = Reply(self, params, heard)
        turn = reply.voice_turn
        if heard is not None:
            turn.input_audio = heard.media_id if self.keep_audio else None
            turn.audio_kept = self.keep_audio and heard.media_id is not None
            turn.input_audio_ms = heard.audio_ms
            turn.speech_ended_at = self._speech_ended_at
        self._last_heard = None
        self.reply = reply
        reply.start()

    async def _cancel(self, cancel: ResponseCancel) -> None:
        reply = self.reply
        if reply is None or (cancel.response_id and cancel.response_id != reply.id):
            raise EventError(
                "Cancellation failed: no active response found.",
                code="response_cancel_not_active",
            )
        self._interrupt("client_cancelled")

    def _interrupt(self, reason: Any) -> None:
        if self.reply is not None:
            log.info("realtime.interrupted", response_id=self.reply.id, reason=reason)
            self.reply.cancel(reason)

    def _item(self, item_id: str) -> conv.Item:
        item = self.conversation.find(item_id)
        if item is None:
            raise EventError(
                f"Item with item_id '{item_id}' not found.", param="item_id", code="item_not_found"
            )
        return item

    async def _delete(self, delete: ItemDelete) -> None:
        """The item leaves the conversation: later tasks do not show it to the wizard.
        An answer being given cannot be deleted from under it."""
        item = self._item(delete.item_id)
        if self.reply is not None and item in self.reply.output:
            raise EventError(
                "The item belongs to the response in progress: cancel it first.",
                param="item_id",
            )
        self.conversation.remove(item.id)
        if item.media_id is not None and not self.keep_audio:
            await self.media.delete(item.media_id)
        await self.send(event("conversation.item.deleted", item_id=item.id))

    async def _truncate(self, truncate: ItemTruncate) -> None:
        item = self.conversation.find(truncate.item_id)
        if item is None or item.message.role != "assistant":
            raise EventError(
                f"Item with item_id '{truncate.item_id}' not found or not an assistant message.",
                param="item_id",
            )
        await self.send(
            event(
                "conversation.item.truncated",
                item_id=item.id,
                content_index=truncate.content_index,
                audio_end_ms=truncate.audio_end_ms,
            )
        )
        if item.record_id is not None:
            await note_played(self.store, item.record_id, truncate.audio_end_ms)

    # -- what a reply asks of its session ------------------------------------------------

    def task_for(self, reply: Reply) -> Task:
        """The wizard's task for `reply`: the conversation so far, as a chat turn's."""
        settings = self.settings
        instructions = reply.params.instructions or settings.instructions
        messages = self.conversation.messages()
        if instructions:
            system = Message(role="system", content=[ContentPart(type="text", text=instructions)])
            messages = [system, *messages]
        raw = f"realtime:{self.id}:{reply.id}".encode()
        interrupted, self._interrupted = self._interrupted, None
        detection = settings.turn_detection
        facts = intake(self.request, raw, None).task_fields()
        facts["conversation_id"] = facts["conversation_id"] or self.conversation_id
        tools = reply.params.tools if reply.params.tools is not None else None
        task = Task(
            study_id=self.study.id,
            persona=self.persona.id,
            api="openai.realtime",
            messages=messages,
            tools=settings.task_tools() if tools is None else tool_specs(tools),
            tool_choice=settings.task_tool_choice(),
            stream=True,
            live=self.persona.live,
            request={
                "session_id": self.id,
                "response_id": reply.id,
                "output_modalities": [reply.modality],
                "output_voice": settings.voice,
                "input_audio_format": settings.input_format,
                "output_audio_format": settings.output_format,
                "turn_detection": detection.wire() if detection else None,
                "voice": {
                    "session_id": self.id,
                    "item_id": reply.heard.id if reply.heard else None,
                    "utterance_ms": reply.heard.audio_ms if reply.heard else None,
                    "interrupted": interrupted,
                    "fillers": list(self.study.voice.fillers) if reply.modality == "audio" else [],
                },
            },
            **facts,
        )
        return task

    def announce(self, kind: str, **fields: Any) -> None:
        """Tell the wizards listening live what happens in the session."""
        self.live.publish(self.id, {"type": kind, **fields})

    def note_interruption(self, reply: Reply) -> None:
        """The participant spoke over `reply`: the wizard's next task says so."""
        self._interrupted = {
            "response_id": reply.id,
            "while": "speaking" if reply.said else "waiting",
            "said": reply.said,
            "audio_sent_ms": ms_of(reply.audio_bytes),
        }

    def unkept_media(self) -> set[str]:
        """The utterances to forget when the turn ends (none if the study keeps audio)."""
        if self.keep_audio:
            return set()
        return {item.media_id for item in self.conversation.spoken_turns() if item.media_id}

    async def transcribed(self, item: conv.Item, transcript: str) -> None:
        conv.set_transcript(item, transcript)
        await self.send(
            event(
                "conversation.item.input_audio_transcription.completed",
                item_id=item.id,
                content_index=0,
                transcript=transcript,
                usage={"type": "duration", "seconds": round(item.audio_ms / 1000, 3)},
            )
        )

    def said_message(self, text: str) -> Message:
        content = [ContentPart(type="text", text=text)] if text else []
        return Message(role="assistant", content=content)

    async def turn_ended(self, reply: Reply) -> None:
        """`reply` is over: forget audio the study does not keep, and free the session."""
        if self.reply is reply:
            self.reply = None
        if self.keep_audio:
            return
        for item in self.conversation.spoken_turns():
            media_id = item.media_id
            assert media_id is not None
            item.media_id = None
            item.message = Message(
                role=item.message.role,
                content=[p for p in item.message.content if p.type != "audio"],
            )
            await self.media.delete(media_id)
