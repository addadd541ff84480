"""The study file's `[voice]` table: how woz speaks, and what it keeps of what is said."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

DEFAULT_FILLERS = ("Hmm, let me check.", "One moment, please.", "Good question.")

ESPEAK_VOICE = re.compile(r"^[A-Za-z0-9_-]{1,40}(\+[A-Za-z0-9_-]{1,20})?$")
"""An espeak-ng voice: a language code, optionally with a variant (`en-us`, `en-gb+f3`)."""
_PIPER_VOICE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class VoiceSection(BaseModel):
    """How woz speaks text (`POST /v1/audio/speech`).

    `engine`: `piper`, a local neural voice (the default; where the piper-tts
    package is not installed, espeak-ng speaks instead), `espeak` (Debian's
    espeak-ng), or `upstream`, a real model's `/v1/audio/speech` named by
    `upstream` (an `[[upstreams]]` id). `name`: the engine's voice, empty
    for its default (piper: `en_US-joe-medium`, or a path to a `.onnx` model;
    espeak: `en-us`; upstream: `alloy`). `speed`: the pace, 1.0 the voice's own.
    `fillers`: phrases the wizard can say at once in a voice session to cover the
    time they take ("Hmm, let me check."): the console offers them, and one that
    starts the answer is spoken as soon as it is chosen, before the rest is typed.
    `keep_audio`: whether the recordings of what participants say in voice sessions
    (`/v1/realtime`) are kept with the records and exported; when false (the
    default) the wizard hears each utterance and it is deleted once answered. A
    study that keeps audio says so in its consent text.
    """

    model_config = ConfigDict(extra="forbid")

    engine: Literal["piper", "espeak", "upstream"] = "piper"
    name: str = Field(default="", max_length=300)
    upstream: str | None = None
    speed: float = Field(default=1.0, ge=0.25, le=4.0)
    keep_audio: bool = False
    fillers: list[str] = Field(default_factory=lambda: list(DEFAULT_FILLERS), max_length=20)

    @field_validator("fillers")
    @classmethod
    def _fillers_are_short_sentences(cls, fillers: list[str]) -> list[str]:
        for filler in fillers:
            if not filler.strip() or len(filler) > 200:
                raise ValueError("a filler is a short phrase: 1 to 200 characters")
        return [filler.strip() for filler in fillers]

    @field_validator("name")
    @classmethod
    def _name_fits_engine(cls, voice: str, info: ValidationInfo) -> str:
        engine = info.data.get("engine")
        if not voice or engine == "upstream":
            return voice
        if engine == "espeak" and not ESPEAK_VOICE.match(voice):
            raise ValueError("an espeak-ng voice is a language code such as en-us or en-gb+f3")
        if engine == "piper" and not (voice.endswith(".onnx") or _PIPER_VOICE.match(voice)):
            raise ValueError(
                "a piper voice is a voice's name such as en_US-joe-medium or a path to a .onnx"
            )
        return voice

    @model_validator(mode="after")
    def _upstream_only_for_upstream(self) -> VoiceSection:
        if self.engine == "upstream" and self.upstream is None:
            raise ValueError('engine "upstream" needs voice.upstream, an [[upstreams]] id')
        if self.engine != "upstream" and self.upstream is not None:
            raise ValueError(
                f'voice.upstream is used only with engine = "upstream" (engine is {self.engine!r})'
            )
        return self
