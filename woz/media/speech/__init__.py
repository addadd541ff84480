"""Speech synthesis: engines that turn text into PCM16 audio, and what surrounds them.

- `base`: the `SpeechEngine` protocol, its errors and limits;
- `piper_engine`, `espeak_engine`, `upstream_engine`: the engines;
- `study_voice`: the engine and voice a study's `[voice]` table chooses;
- `sentences`: cutting text into sentences, so speech starts after the first;
- `pcm`: resampling and other PCM16 arithmetic;
- `formats`: the response bodies of `/v1/audio/speech` (wav, pcm, mp3).
"""

from __future__ import annotations

from woz.media.speech.base import (
    MAX_INPUT_CHARS,
    OPENAI_VOICES,
    OUTPUT_RATE,
    SpeechEngine,
    SpeechError,
    SpeechFailed,
    SpeechUnavailable,
)
from woz.media.speech.sentences import SentenceBuffer, split_sentences
from woz.media.speech.study_voice import StudyVoice, VoicePlan, plan_voice, study_voice

__all__ = [
    "MAX_INPUT_CHARS",
    "OPENAI_VOICES",
    "OUTPUT_RATE",
    "SentenceBuffer",
    "SpeechEngine",
    "SpeechError",
    "SpeechFailed",
    "SpeechUnavailable",
    "StudyVoice",
    "VoicePlan",
    "plan_voice",
    "split_sentences",
    "study_voice",
]
