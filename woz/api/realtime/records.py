"""A voice turn's facts, added to the record the dispatcher committed for its task.

The dispatcher commits the answer before a byte of it is sent (DESIGN 5); what
only the speaking can tell (when the first audio left, how much was said, an
interruption) is added afterwards to the same record. The record is read and
written again whole, before the dispatcher is told the turn ended, so the
delivery mark that follows is not overwritten. When the study does not keep
audio, the utterance's address is taken out of the record too.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from woz.media.files import MEDIA_URL_PREFIX
from woz.models.record import VoiceTurn
from woz.models.task import Message
from woz.store.base import Store

log = structlog.get_logger(__name__)


def first_audio_ms(speech_ended_at: datetime | None, first_audio_at: datetime | None) -> int | None:
    if speech_ended_at is None or first_audio_at is None:
        return None
    return max(0, round((first_audio_at - speech_ended_at).total_seconds() * 1000))


def without_media(messages: list[Message], media_ids: set[str]) -> list[Message]:
    """`messages` with the audio parts of `media_ids` left without an address (not kept)."""
    if not media_ids:
        return messages
    urls = {MEDIA_URL_PREFIX + media_id for media_id in media_ids}
    out = []
    for message in messages:
        if any(part.url in urls for part in message.content):
            parts = [
                part.model_copy(update={"url": None}) if part.url in urls else part
                for part in message.content
            ]
            message = message.model_copy(update={"content": parts})
        out.append(message)
    return out


async def note_voice_turn(
    store: Store, record_id: str, turn: VoiceTurn, forgotten: set[str] | None = None
) -> None:
    """Add `turn` to the record `record_id`; drop the addresses of `forgotten` media."""
    record = await store.get_record(record_id)
    if record is None:
        return  # withdrawn meanwhile: nothing of it is kept
    turn.first_audio_ms = first_audio_ms(turn.speech_ended_at, turn.first_audio_at)
    update: dict[str, object] = {"voice": turn}
    if forgotten:
        update["messages"] = without_media(record.messages, forgotten)
    await store.commit_record(record.model_copy(update=update))
    log.info(
        "realtime.turn_recorded",
        record_id=record_id,
        first_audio_ms=turn.first_audio_ms,
        interrupted_by=turn.interrupted_by,
    )


async def note_played(store: Store, record_id: str, played_ms: int) -> None:
    """The client says how much of the answer's audio it played (`conversation.item.truncate`,
    sent when the user cut it short)."""
    record = await store.get_record(record_id)
    if record is None or record.voice is None:
        return
    voice = record.voice.model_copy(update={"played_ms": played_ms})
    await store.commit_record(record.model_copy(update={"voice": voice}))
