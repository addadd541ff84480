"""One Realtime response: from `response.created` to `response.done`.

A response is one task for a wizard, submitted through the dispatcher's public
entry points exactly as a chat turn is (so affinity, leases, the answer timeout,
consent and redaction all apply), then rendered as the API's events:

- text sessions: `response.output_text.delta` pieces paced like a model;
- audio sessions: the wizard's text is spoken sentence by sentence, each
  sentence's `response.output_audio_transcript.delta` followed by its
  `response.output_audio.delta` chunks as the engine makes them, so the first
  audio leaves after the first sentence is synthesised, not the whole answer;
- a live persona speaks (or shows) each finished sentence while the wizard is
  still typing the next; those words can no longer change (`mark_streamed`);
- tool calls become `function_call` items with their argument deltas.

A response cancelled (`response.cancel`, or the user speaking over it) stops at
once: a task still waiting for its wizard is withdrawn, an answer being spoken is
cut, and `response.done` says `cancelled` and why. What was spoken, how fast the
first audio came after the user stopped speaking, and any interruption go into
the turn's record (`Record.voice`).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import structlog

from woz.api.core.errors import as_client_sees
from woz.api.core.exchange import stable_prefix
from woz.api.core.pacing import count_tokens, input_tokens, paced, pacing_for
from woz.api.core.waiting import await_delivery
from woz.api.realtime.audio import Encoder, b64encode, ms_of
from woz.api.realtime.conversation import Item, assistant_item, function_call_item
from woz.api.realtime.events import ResponseParams, event
from woz.api.realtime.records import note_voice_turn
from woz.dispatch.base import TaskHandle
from woz.errors import ErrorKind, WozError
from woz.media.speech import SpeechError, split_sentences
from woz.media.speech.sentences import finished_sentences
from woz.models.record import VoiceTurn
from woz.models.task import Answer, Task, new_id

if TYPE_CHECKING:
    from woz.api.realtime.session import RealtimeSession

log = structlog.get_logger(__name__)
DELTA_BYTES = 24_000 * 2 // 5  # 200 ms of 24 kHz PCM16 per audio delta
CancelReason = Literal["turn_detected", "client_cancelled"]


class Reply:
    """One response of `session`; `run()` it in a task, `cancel()` to stop it."""

    def __init__(
        self,
        session: RealtimeSession,
        params: ResponseParams | None,
        heard: Item | None,
    ) -> None:
        self.session = session
        self.id = new_id("resp_", 12)
        self.params = params or ResponseParams()
        self.heard = heard  # the spoken user turn this answers, if any
        settings = session.settings
        modalities = self.params.output_modalities
        self.modality = modalities[0] if modalities else settings.modality
        self.status: Literal["in_progress", "completed", "cancelled", "failed"] = "in_progress"
        self.cancel_reason: CancelReason | None = None
        self.error: WozError | None = None
        self.output: list[Item] = []
        self.message: Item | None = None  # the assistant message being said
        self.said = ""  # text of the message sent so far (transcript or text deltas)
        self.spoken_prefix = ""  # live mode: the draft's prefix already spoken
        self.encoder = Encoder(settings.output_format)
        self.audio_bytes = 0  # PCM16 24 kHz sent
        self.first_audio_at: datetime | None = None
        self.runner: asyncio.Task[None] | None = None
        self.task: Task | None = None
        self.handle: TaskHandle | None = None
        self.voice_turn = VoiceTurn(session_id=session.id, modality=self.modality)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self.runner = asyncio.create_task(self.run())

    def cancel(self, reason: CancelReason) -> None:
        if self.runner is not None and not self.runner.done() and self.cancel_reason is None:
            self.cancel_reason = reason
            self.runner.cancel()

    async def run(self) -> None:
        send = self.session.send
        handle: TaskHandle | None = None
        record_id: str | None = None
        try:
            await send(event("response.created", response=self.resource()))
            task = self.task = self.session.task_for(self)
            handle = self.handle = await self.session.dispatcher.submit(task)
            delivery = await self._wait(handle)
            record_id = delivery.record_id
            await self._render(delivery.answer)
            self.status = "completed"
        except asyncio.CancelledError:
            if self.cancel_reason is None:
                raise  # the session itself is closing
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            self.status = "cancelled"
            if self.cancel_reason == "turn_detected":
                self.session.note_interruption(self)
            self.session.announce("reply", state="interrupted", response_id=self.id)
        except WozError as error:
            self.status = "failed"
            deception = self.session.study.study.deception
            self.error = as_client_sees(error, deception)
            await self.session.send_error(self.error, event_id=None)
        except Exception:  # a bug: the client still gets a well-formed ending
            log.exception("realtime.reply_failed", response_id=self.id)
            self.status = "failed"
            self.error = WozError(ErrorKind.INTERNAL, "The server had an error.")
            await self.session.send_error(self.error, event_id=None)
        finally:
            if handle is not None:
                if record_id is not None:
                    await self._note(record_id)
                self.session.dispatcher.finish(handle, delivered=record_id is not None)
            await self.session.turn_ended(self)
        await self._close_items()
        await send(event("response.done", response=self.resource()))
        if self.status != "cancelled":
            self.session.announce("reply", state="done", response_id=self.id)

    async def _wait(self, handle: TaskHandle) -> Any:
        session = self.session
        on_draft = None
        if handle.task.live:
            on_draft = self._live
        elif self.modality == "audio" and session.study.voice.fillers:
            on_draft = self._filler
        return await await_delivery(
            session.request, handle, poll_s=session.poll_s, on_draft=on_draft
        )

    # -- saying the answer -----------------------------------------------------

    async def _filler(self, draft: str) -> None:
        """A filler phrase that starts the wizard's draft is said at once, to cover the
        time the rest takes to type (`[voice] fillers`)."""
        if self.spoken_prefix:
            return
        for filler in self.session.study.voice.fillers:
            after = draft[len(filler) :]
            # Chosen and followed by a space: the wizard is on to the next words.
            if draft.startswith(filler) and after[:1].isspace():
                ready = draft[: len(draft) - len(after.lstrip())]
                await self._said_early(ready)
                return

    async def _live(self, draft: str) -> None:
        """Live persona: say what the wizard has certainly finished typing."""
        if self.modality == "audio":
            _, rest = finished_sentences(draft)
            ready = draft[:rest]
        else:
            ready = stable_prefix(draft)
        await self._said_early(ready)

    async def _said_early(self, ready: str) -> None:
        """Say `ready`, the start of the wizard's draft, before the answer is sent: the
        reply must then start with it (the dispatcher refuses one that does not)."""
        if not ready.startswith(self.spoken_prefix) or len(ready) <= len(self.spoken_prefix):
            return  # words already said cannot be unsaid: wait for the draft to grow
        piece, self.spoken_prefix = ready[len(self.spoken_prefix) :], ready
        if self.handle is not None:
            self.handle.mark_streamed(ready)
        await self._say(piece, paced_text=False)

    async def _render(self, answer: Answer) -> None:
        if answer.input_transcript and self.heard is not None:
            await self.session.transcribed(self.heard, answer.input_transcript)
            self.voice_turn.input_transcript = answer.input_transcript
        rest = (answer.content or "")[len(self.spoken_prefix) :]
        if rest:
            await self._say(rest, paced_text=True)
        for index, call in enumerate(answer.tool_calls):
            await self._call(call, len(self.output) + index)

    async def _say(self, text: str, *, paced_text: bool) -> None:
        await self._open_message()
        if self.modality == "text":
            assert self.task is not None
            rate, delay = pacing_for(self.task, self.session.study.pacing)
            if not paced_text:
                rate, delay = 0.0, 0.0
            async for piece in paced(text, rate, delay if not self.said else 0.0):
                await self._text_delta("response.output_text.delta", piece)
            return
        for piece, sentence in _sentence_pieces(text):
            await self._text_delta("response.output_audio_transcript.delta", piece)
            await self._speak(sentence)

    async def _text_delta(self, kind: str, piece: str) -> None:
        assert self.message is not None
        self.said += piece
        await self.session.send(event(kind, **self._where(self.message), delta=piece))

    async def _speak(self, sentence: str) -> None:
        assert self.message is not None
        if not sentence.strip():
            return
        voice = self.session.voice
        try:
            chunks = voice.engine.synthesize(
                sentence, voice=self.session.voice_name, speed=self.session.speed, rate=24_000
            )
            async with contextlib.aclosing(chunks):
                async for pcm in chunks:
                    for start in range(0, len(pcm), DELTA_BYTES):
                        await self._audio_delta(pcm[start : start + DELTA_BYTES])
        except SpeechError as exc:
            # The wizard's words still reach the app as the transcript; the app hears why not.
            log.warning("realtime.speech_failed", error=str(exc))
            failure = WozError(ErrorKind.UPSTREAM, f"Speech synthesis failed: {exc}.")
            failure.code = "speech_failed"
            await self.session.send_error(failure, event_id=None)

    async def _audio_delta(self, pcm: bytes) -> None:
        assert self.message is not None
        wire = self.encoder.feed(pcm)
        if self.first_audio_at is None:
            self.first_audio_at = datetime.now(UTC)
            self.session.announce("reply", state="speaking", response_id=self.id)
        self.audio_bytes += len(pcm)
        await self.session.send(
            event("response.output_audio.delta", **self._where(self.message), delta=b64encode(wire))
        )

    async def _open_message(self) -> None:
        if self.message is not None:
            return
        self.message = assistant_item(self.modality)
        await self._add_item(self.message)
        part = (
            {"type": "audio", "transcript": ""}
            if self.modality == "audio"
            else {
                "type": "text",
                "text": "",
            }
        )
        await self.session.send(
            event("response.content_part.added", **self._where(self.message), part=part)
        )

    async def _add_item(self, item: Item) -> None:
        self.output.append(item)
        previous = self.session.conversation.add(item)
        await self.session.send(
            event(
                "response.output_item.added",
                response_id=self.id,
                output_index=len(self.output) - 1,
                item=item.wire,
            )
        )
        await self.session.send(
            event("conversation.item.added", previous_item_id=previous, item=item.wire)
        )

    async def _call(self, call: Any, _: int) -> None:
        item = function_call_item(call)
        done_args = item.wire["arguments"]
        item.wire = {**item.wire, "arguments": "", "status": "in_progress"}
        await self._add_item(item)
        where = {
            "response_id": self.id,
            "item_id": item.id,
            "output_index": self.output.index(item),
            "call_id": call.id,
        }
        assert self.task is not None
        rate, _delay = pacing_for(self.task, self.session.study.pacing)
        async for piece in paced(done_args, rate, 0.0):
            await self.session.send(
                event("response.function_call_arguments.delta", **where, delta=piece)
            )
        await self.session.send(
            event(
                "response.function_call_arguments.done",
                **where,
                name=call.name,
                arguments=done_args,
            )
        )
        item.wire = {**item.wire, "arguments": done_args, "status": "completed"}
        await self._finish_item(item)

    async def _finish_item(self, item: Item) -> None:
        await self.session.send(
            event(
                "response.output_item.done",
                response_id=self.id,
                output_index=self.output.index(item),
                item=item.wire,
            )
        )
        await self.session.send(
            event("conversation.item.done", previous_item_id=self._before(item), item=item.wire)
        )

    async def _close_items(self) -> None:
        """The message's closing events, whether it completed or was cut short."""
        message = self.message
        if message is None:
            return
        where = self._where(message)
        complete = self.status == "completed"
        if self.modality == "audio":
            await self.session.send(event("response.output_audio.done", **where))
            await self.session.send(
                event("response.output_audio_transcript.done", **where, transcript=self.said)
            )
            part: dict[str, Any] = {"type": "audio", "transcript": self.said}
            content = [{"type": "output_audio", "transcript": self.said}]
        else:
            await self.session.send(event("response.output_text.done", **where, text=self.said))
            part = {"type": "text", "text": self.said}
            content = [{"type": "output_text", "text": self.said}]
        await self.session.send(event("response.content_part.done", **where, part=part))
        message.wire = {
            **message.wire,
            "content": content,
            "status": "completed" if complete else "incomplete",
        }
        message.message = self.session.said_message(self.said)
        await self._finish_item(message)

    # -- shapes -------------------------------------------------------------------

    def _where(self, item: Item) -> dict[str, Any]:
        return {
            "response_id": self.id,
            "item_id": item.id,
            "output_index": self.output.index(item),
            "content_index": 0,
        }

    def _before(self, item: Item) -> str | None:
        items = self.session.conversation.items
        index = next((i for i, it in enumerate(items) if it is item), 0)
        return items[index - 1].id if index > 0 else None

    def resource(self) -> dict[str, Any]:
        """The response object of `response.created` / `response.done`."""
        details: dict[str, Any] | None = None
        if self.status == "cancelled":
            details = {"type": "cancelled", "reason": self.cancel_reason}
        elif self.status == "failed" and self.error is not None:
            details = {
                "type": "failed",
                "error": {"type": self.error.kind.value, "code": self.error.code},
            }
        elif self.status == "completed":
            details = None
        settings = self.session.settings
        return {
            "id": self.id,
            "object": "realtime.response",
            "status": self.status,
            "status_details": details,
            "output": [item.wire for item in self.output],
            "conversation_id": self.session.conversation_id,
            "output_modalities": [self.modality],
            "max_output_tokens": "inf",
            "audio": {
                "output": {
                    "format": {"type": settings.output_format}
                    | ({"rate": 24000} if settings.output_format == "audio/pcm" else {}),
                    "voice": settings.voice,
                }
            },
            "usage": self._usage() if self.status != "in_progress" else None,
            "metadata": self.params.metadata,
        }

    def _usage(self) -> dict[str, Any]:
        # Audio is counted as OpenAI bills it, roughly: 10 tokens per second heard,
        # 20 per second spoken.
        heard_ms = sum(item.audio_ms for item in self.session.conversation.items)
        text_in = input_tokens(self.session.conversation.messages())
        audio_in = heard_ms // 100
        text_out = count_tokens(self.said)
        audio_out = ms_of(self.audio_bytes) // 50
        return {
            "total_tokens": text_in + audio_in + text_out + audio_out,
            "input_tokens": text_in + audio_in,
            "output_tokens": text_out + audio_out,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }

    async def _note(self, record_id: str) -> None:
        turn = self.voice_turn
        turn.audio_sent_ms = ms_of(self.audio_bytes)
        turn.first_audio_at = self.first_audio_at
        turn.interrupted_by = self.cancel_reason
        if self.modality == "audio":
            turn.engine = self.session.voice.engine.name
            turn.voice = self.session.voice_name
        if self.message is not None:
            self.message.record_id = record_id
        await note_voice_turn(self.session.store, record_id, turn, self.session.unkept_media())


def _sentence_pieces(text: str) -> list[tuple[str, str]]:
    """`text` cut into (slice of `text`, sentence to speak): the slices join back to
    `text` exactly (the transcript), the sentences are what the engine is given."""
    pieces: list[tuple[str, str]] = []
    cursor = 0
    for sentence in split_sentences(text):
        found = text.find(sentence, cursor)
        end = len(text) if found < 0 else found + len(sentence)
        pieces.append((text[cursor:end], sentence))
        cursor = end
    if cursor < len(text):
        if pieces:
            last_piece, last_sentence = pieces[-1]
            pieces[-1] = (last_piece + text[cursor:], last_sentence)
        else:
            pieces.append((text[cursor:], ""))
    return [(piece, sentence) for piece, sentence in pieces]
