"""Server voice activity detection: where an utterance starts and ends, from its energy.

The Realtime API's `server_vad` settings mean here:

- `threshold` (0.0 to 1.0, default 0.5): a 20 ms frame is voiced when its RMS level
  is above `-60 dBFS + 60 dB × threshold` (0.5: -30 dBFS, which quiet room noise
  stays under and normal speech at a headset is well over);
- speech starts at the first of `ONSET_FRAMES` voiced frames in a row (a click is
  one frame, a syllable is several);
- `prefix_padding_ms` (default 300) of the audio before that start belongs to the
  utterance, so its first consonant is not cut;
- speech stops after `silence_duration_ms` (default 500) without a voiced frame.

Times are on the audio's own clock: milliseconds of audio appended since the
session began, as the API's `audio_start_ms` / `audio_end_ms` are. The detector
keeps one partial frame and a few counters: constant memory, linear time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from woz.api.realtime.audio import bytes_for_ms, ms_of
from woz.media.speech.pcm import samples_of

FRAME_MS = 20
FRAME_BYTES = bytes_for_ms(FRAME_MS)
ONSET_FRAMES = 2


def level_for(threshold: float) -> float:
    """The RMS level (of 32768) above which a frame is voiced, for an API `threshold`."""
    return 32768 * 10 ** ((-60 + 60 * threshold) / 20)


def frame_rms(frame: bytes) -> float:
    samples = samples_of(frame)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


@dataclass(frozen=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True)
class SpeechStopped:
    audio_end_ms: int  # the end of the last voiced frame
    detected_ms: int  # when the silence had lasted long enough to tell


VadEvent = SpeechStarted | SpeechStopped


class Vad:
    """Feed it 24 kHz PCM16 as it arrives; it says when speech starts and stops."""

    def __init__(self, threshold: float, silence_duration_ms: int) -> None:
        self.level = level_for(threshold)
        self.silence_frames = max(1, math.ceil(silence_duration_ms / FRAME_MS))
        self.speaking = False
        self._partial = b""
        self._frames = 0  # whole frames seen since the session began
        self._voiced_run = 0
        self._silent_run = 0
        self._origin = 0  # the audio clock when this detector started

    def start_at(self, position_ms: int) -> None:
        """Count time from `position_ms` (a detector replacing another mid-session)."""
        self._origin = position_ms

    @property
    def position_ms(self) -> int:
        """Milliseconds of audio since the session began, as far as fed."""
        return self._origin + self._frames * FRAME_MS + ms_of(len(self._partial))

    def feed(self, pcm: bytes) -> list[VadEvent]:
        """The starts and stops that `pcm` completes, in order."""
        data = self._partial + pcm if self._partial else pcm
        events: list[VadEvent] = []
        whole = len(data) - len(data) % FRAME_BYTES
        for offset in range(0, whole, FRAME_BYTES):
            event = self._frame(frame_rms(data[offset : offset + FRAME_BYTES]) > self.level)
            if event is not None:
                events.append(event)
        self._partial = data[whole:]
        return events

    def _frame(self, voiced: bool) -> VadEvent | None:
        self._frames += 1
        if voiced:
            self._voiced_run += 1
            self._silent_run = 0
        else:
            self._voiced_run = 0
            self._silent_run += 1
        if not self.speaking and self._voiced_run >= ONSET_FRAMES:
            self.speaking = True
            return SpeechStarted(self._origin + (self._frames - ONSET_FRAMES) * FRAME_MS)
        if self.speaking and self._silent_run >= self.silence_frames:
            self.speaking = False
            end = self._origin + (self._frames - self._silent_run) * FRAME_MS
            return SpeechStopped(end, self._origin + self._frames * FRAME_MS)
        return None

    def reset(self) -> None:
        """The buffer was committed or cleared by the client: any speech is over."""
        self.speaking = False
        self._voiced_run = 0
        self._silent_run = 0


__all__ = ["FRAME_MS", "SpeechStarted", "SpeechStopped", "Vad", "VadEvent", "level_for"]
