"""The durable record of one task (DESIGN 4.5).

Provenance and disclosure are fields of the record itself, so that no export
can carry the text without saying who wrote it and what the participant was told.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from woz.models.task import Answer, Message, ProducedBy, ResponseFormat, ToolChoice, ToolSpec


class RecordStatus(StrEnum):
    """Where the task ended. `answered` is the short window between commit and delivery."""

    ANSWERED = "answered"
    DELIVERED = "delivered"
    CLIENT_GONE = "client_gone"
    EXPIRED = "expired"
    FAILED = "failed"


class Timings(BaseModel):
    received_at: datetime
    assigned_at: datetime | None = None
    first_keystroke_at: datetime | None = None
    answered_at: datetime | None = None
    delivered_at: datetime | None = None
    attempts: int = 1


class VoiceTurn(BaseModel):
    """What a spoken turn adds to its record (the Realtime API, `woz.api.realtime`).

    `input_audio` is the media id of the user's utterance when the study keeps audio
    (`[voice] keep_audio`), else None; `input_transcript` is what the wizard heard
    the user say. `engine` and `voice` name what spoke the answer (None for a text
    session). `first_audio_ms` runs from the end of the user's speech (the VAD's
    stop, or the commit) to the first byte of spoken answer sent; `audio_sent_ms`
    is how much of the answer was sent. A reply cut short says why
    (`interrupted_by`: `turn_detected` for a barge-in, `client_cancelled`) and, if
    the client said how much it played, `played_ms`.
    """

    session_id: str
    modality: Literal["audio", "text"]
    input_audio: str | None = None
    input_audio_ms: int | None = None
    audio_kept: bool = False
    input_transcript: str | None = None
    engine: str | None = None
    voice: str | None = None
    speech_ended_at: datetime | None = None
    first_audio_at: datetime | None = None
    first_audio_ms: int | None = None
    audio_sent_ms: int = 0
    interrupted_by: Literal["turn_detected", "client_cancelled"] | None = None
    played_ms: int | None = None


class Record(BaseModel):
    """One task with its answer (if any), provenance, disclosure and timings."""

    id: str
    task_id: str
    study_id: str
    persona: str
    api: str
    conversation_id: str
    participant: str | None
    consent_id: str | None = None
    redactions: dict[str, int] = Field(default_factory=dict)
    operator: str | None
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    tool_choice: ToolChoice = Field(default_factory=ToolChoice)
    response_format: ResponseFormat = Field(default_factory=ResponseFormat)
    answer: Answer | None
    produced_by: ProducedBy | None
    synthetic: bool = False
    draft: str | None = None
    draft_source: str | None = None
    edit_ratio: float | None = None
    model: str | None = None
    mode: Literal["human", "assist", "model"] = "human"
    arm: str | None = None
    failure: str | None = None
    presented_as: Literal["ai", "human"]
    deception: Literal["none", "partial", "concealed"]
    debriefed: bool = False
    debriefed_at: datetime | None = None
    withdrawn: bool = False
    permitted_uses: list[str]
    license: str
    timings: Timings
    status: RecordStatus
    request: dict[str, Any] = Field(default_factory=dict)
    # How many times the answer was given again, to a retry of its request that came
    # after it was answered (woz.dispatch.retries): each copy went to the same request.
    replays: int = 0
    # Set after the fact by a researcher reviewing the data: why this answer was a
    # wizard error (the operator broke the protocol or got it wrong), else None.
    wizard_error: str | None = None
    # A turn of a Realtime (voice) session: its audio, transcript, voice and timings.
    voice: VoiceTurn | None = None
