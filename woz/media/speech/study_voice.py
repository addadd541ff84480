"""The study's voice: which engine speaks, with which voice, at what pace.

The study file's `[voice]` table names them. Piper is the default; where the
piper-tts package is not installed, espeak-ng speaks instead, and `woz check`
and the server's start-up log say so. An app may ask for any of OpenAI's voice
names (`alloy`, `nova`, ...) and hears the study's voice, since a study keeps one
voice for its wizard; naming one of the engine's own voices picks that one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from woz.assist.upstream import Upstreams, model_name
from woz.media.speech import espeak_engine, piper_engine, upstream_engine
from woz.media.speech.base import OPENAI_VOICES, SpeechEngine
from woz.media.speech.espeak_engine import EspeakEngine
from woz.media.speech.piper_engine import PiperEngine, piper_installed
from woz.media.speech.upstream_engine import UpstreamEngine
from woz.models.study import Study
from woz.models.voice import VoiceSection

_DEFAULT_VOICES = {
    "piper": piper_engine.DEFAULT_VOICE,
    "espeak": espeak_engine.DEFAULT_VOICE,
    "upstream": upstream_engine.DEFAULT_VOICE,
}


@dataclass(frozen=True)
class VoicePlan:
    """What `[voice]` comes to on this machine; `fallback` says why piper is not used."""

    engine: str
    voice: str
    speed: float
    upstream: str | None = None
    fallback: str | None = None


def plan_voice(section: VoiceSection) -> VoicePlan:
    """The engine and voice that will speak, decided without starting anything."""
    if section.engine == "piper" and not piper_installed():
        # The study's piper voice means nothing to espeak-ng: its default speaks.
        why = f"piper-tts is not installed here, so espeak-ng speaks: {piper_engine.INSTALL_HINT}"
        return VoicePlan(
            "espeak",
            espeak_engine.DEFAULT_VOICE,
            section.speed,
            fallback=why,
        )
    voice = section.name or _DEFAULT_VOICES[section.engine]
    return VoicePlan(section.engine, voice, section.speed, section.upstream)


def voice_problem(plan: VoicePlan) -> str | None:
    """Why the planned engine cannot speak on this machine, or None: for `woz check`."""
    if plan.engine == "espeak" and shutil.which(espeak_engine.BINARY) is None:
        return f"{espeak_engine.BINARY} is not installed here (apt-get install espeak-ng)"
    if plan.engine != "piper":
        return None
    if piper_engine.is_voice_path(plan.voice):
        if not Path(plan.voice).is_file():
            return f"the piper model {plan.voice} does not exist"
    elif plan.voice not in (installed := piper_engine.installed_voices()):
        known = ", ".join(installed) or "none"
        return f"piper has no voice {plan.voice!r} here (installed voices: {known})"
    return None


@dataclass(frozen=True)
class StudyVoice:
    """The engine a study speaks with, and how a request's voice maps onto it."""

    engine: SpeechEngine
    plan: VoicePlan
    model: str  # how records name what spoke: `piper:en_US-joe-medium`, `openai:tts-1`

    @property
    def voice(self) -> str:
        return self.plan.voice

    async def resolve(self, requested: str) -> str | None:
        """The voice to speak a request with, or None when the engine has no such voice."""
        if requested in OPENAI_VOICES or requested == self.plan.voice:
            return self.plan.voice
        return requested if requested in await self.engine.voices() else None


def study_voice(study: Study, upstreams: Upstreams) -> StudyVoice:
    """The speaking engine of `study` (engines start nothing until they first speak)."""
    plan = plan_voice(study.voice)
    engine: SpeechEngine
    if plan.engine == "upstream":
        spec = study.upstream(plan.upstream or "")
        assert spec is not None  # the study file was checked
        return StudyVoice(UpstreamEngine(upstreams, spec, plan.voice), plan, model_name(spec))
    engine = PiperEngine() if plan.engine == "piper" else EspeakEngine()
    return StudyVoice(engine, plan, f"{plan.engine}:{plan.voice}")


__all__ = ["StudyVoice", "VoicePlan", "plan_voice", "study_voice", "voice_problem"]
