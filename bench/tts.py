"""Speech synthesis speed (`make bench`): the real-time factor of each local engine.

For piper and espeak-ng, a fixed English paragraph (six sentences, about 20 s of
speech) is synthesised through woz's own engines, the code `/v1/audio/speech`
runs (sentence splitting, a worker thread or a subprocess, resampling to 24 kHz),
`--rounds` times after one unmeasured warm-up (which loads piper's model). Per
engine it prints:

- real-time factor: wall-clock seconds of synthesis per second of audio (under 1:
  faster than it is spoken, so streaming keeps ahead of the listener);
- CPU factor: CPU seconds (this process and its subprocesses) per second of audio;
- first audio: seconds from the request to the first chunk (the first sentence),
  what a listener waits for;
- the machine's load: its cores, load average, and the CPU everything else used
  while the engine ran (a shared machine makes the wall-clock figures worse).

Figures are saved to `bench-results/tts.json`. An engine that cannot run here
(no espeak-ng, no voice extra) is reported and skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/tts.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine_cpu_seconds
from woz.media.speech import OUTPUT_RATE, SpeechEngine, SpeechError
from woz.media.speech.espeak_engine import EspeakEngine
from woz.media.speech.piper_engine import PiperEngine

RESULTS = ROOT / "bench-results" / "tts.json"
PARAGRAPH = (
    "Thank you for waiting, I have three ideas for your sister. "
    "The first is a cashmere scarf from Loro Piana, which is soft, warm and timeless. "
    "The second is a silk notebook cover, handmade in Florence by a small workshop. "
    "If she likes to travel, a leather weekender bag would also make a lovely gift. "
    "Each of them can be wrapped and delivered before Friday at no extra cost. "
    "Would you like me to tell you more about any of them?"
)
ENGINES: dict[str, tuple[SpeechEngine, str]] = {
    "piper": (PiperEngine(), "en_US-joe-medium"),
    "espeak": (EspeakEngine(), "en-us"),
}


def cpu_seconds() -> float:
    """CPU seconds of this process and of its waited-for children (espeak-ng)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def speak(engine: SpeechEngine, voice: str) -> tuple[float, float, float]:
    """Audio seconds, wall seconds, and seconds to the first chunk, of one synthesis."""
    started = time.perf_counter()
    first: float | None = None
    samples = 0
    async for chunk in engine.synthesize(PARAGRAPH, voice=voice, rate=OUTPUT_RATE):
        if first is None:
            first = time.perf_counter() - started
        samples += len(chunk) // 2
    return samples / OUTPUT_RATE, time.perf_counter() - started, first or 0.0


async def measure(name: str, rounds: int) -> dict[str, Any]:
    engine, voice = ENGINES[name]
    try:
        await speak(engine, voice)  # warm-up: loads the model, fills caches
    except SpeechError as exc:
        return {"engine": name, "skipped": str(exc)}
    cpu, machine = cpu_seconds(), machine_cpu_seconds()
    audio = wall = 0.0
    firsts = []
    for _ in range(rounds):
        seconds, took, first = await speak(engine, voice)
        audio, wall = audio + seconds, wall + took
        firsts.append(first)
    used = cpu_seconds() - cpu
    others = machine_cpu_seconds() - machine - used
    return {
        "engine": name,
        "voice": voice,
        "rounds": rounds,
        "audio_s": round(audio, 2),
        "real_time_factor": round(wall / audio, 3),
        "cpu_factor": round(used / audio, 3),
        "first_audio_s": round(sorted(firsts)[len(firsts) // 2], 3),
        "others_cpu_percent": round(100 * max(others, 0.0) / wall, 1),
    }


def report(results: list[dict[str, Any]]) -> None:
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\nspeech synthesis on {os.cpu_count()} cores (load average {load})")
    print("engine   voice              audio s   real-time factor   CPU factor   first audio s")
    for row in results:
        if "skipped" in row:
            print(f"{row['engine']:<8} skipped: {row['skipped']}")
            continue
        print(
            f"{row['engine']:<8} {row['voice']:<18} {row['audio_s']:>7}   "
            f"{row['real_time_factor']:>16}   {row['cpu_factor']:>10}   {row['first_audio_s']:>13}"
        )
    busy = [
        f"{row['engine']} {row['others_cpu_percent']}%" for row in results if "skipped" not in row
    ]
    print(f"CPU used by the rest of the machine meanwhile (of one core): {', '.join(busy)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Real-time factor of woz's speech engines.")
    parser.add_argument("--rounds", type=int, default=3, help="measured syntheses per engine")
    parser.add_argument("--engine", choices=sorted(ENGINES), action="append", help="only these")
    args = parser.parse_args(argv)
    results = [asyncio.run(measure(name, args.rounds)) for name in args.engine or ENGINES]
    report(results)
    figures = {"cores": os.cpu_count(), "load_average": os.getloadavg(), "engines": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures saved to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
