"""Voice latency (`make bench`): end of the user's speech to the first audio byte.

A woz serves a bench study in this process (an aiohttp runner on a free port,
SQLite in a temporary folder) with the study's voice (espeak-ng unless
`--engine piper`); a wizard bot answers every task at once over the operator
protocol; the official `openai` SDK's `client.realtime.connect()` streams an
utterance per round (a synthetic voiced signal, then silence) in 100 ms appends.

For each round the clock starts when the append that completes the VAD's
silence (`silence_duration_ms`) is sent, the first moment any server could know
the user stopped, and stops at the first `response.output_audio.delta`. That
span is what a listener waits: the VAD's decision, the commit (the utterance
saved for the wizard), the task's trip to the wizard and back, the record's
commit, and the first sentence's synthesis. p50 and p99 are printed and saved
to `bench-results/realtime.json`; the rounds' real-time factor of synthesis
comes from `bench/tts.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/realtime.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openai
from aiohttp import web

from bench.common import HOST, MODEL, ROOT, STUDY_TOML, free_port, latency_ms
from woz.app import create_app
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.context import STORE
from woz.logging import configure_logging
from woz.study import parse_study
from woz.testing import ScriptedOperator

RESULTS = ROOT / "bench-results" / "realtime.json"
RATE = 24_000
CHUNK_MS = 100
SILENCE_MS = 500  # the API's default `silence_duration_ms`
ANSWER = "Sure, I can help with that. What else would you like to know?"


def tone(ms: int) -> bytes:
    count = RATE * ms // 1000
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * 220 * i / RATE)) for i in range(count))
    )


def chunks(pcm: bytes) -> list[str]:
    step = RATE * 2 * CHUNK_MS // 1000
    return [base64.b64encode(pcm[i : i + step]).decode() for i in range(0, len(pcm), step)]


async def one_round(connection: Any, speech: list[str], silence: list[str]) -> float:
    """Seconds from the append that ends the silence to the first audio delta."""
    for chunk in speech:
        await connection.input_audio_buffer.append(audio=chunk)
    for chunk in silence[:-1]:
        await connection.input_audio_buffer.append(audio=chunk)
    start = time.perf_counter()
    await connection.input_audio_buffer.append(audio=silence[-1])
    first: float | None = None
    async with asyncio.timeout(60):
        while True:
            event = await connection.recv()
            if event.type == "response.output_audio.delta" and first is None:
                first = time.perf_counter() - start
            if event.type == "response.done":
                assert first is not None, "the response had no audio"
                return first


async def measure(rounds: int, engine: str) -> dict[str, Any]:
    study = parse_study(STUDY_TOML + f'\n[voice]\nengine = "{engine}"\n')
    data = Path(tempfile.mkdtemp(prefix="woz-bench-realtime-"))
    port = free_port()
    app = create_app(study, Settings(data=data, port=port))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    url = f"http://{HOST}:{port}"
    try:
        store = app[STORE]
        _, app_key = await create_key(store, study.id, "app", "bench app")
        _, token = await create_key(store, study.id, "operator", "bench wizard")
        async with ScriptedOperator(url, token, timeout=60) as wizard:
            await wizard.ready(capacity=4)
            await wizard.expect("queue", operators_online=1)
            wizard.answer_all(lambda task: ANSWER)
            client = openai.AsyncOpenAI(base_url=url + "/v1", api_key=app_key, max_retries=0)
            speech = chunks(tone(800))
            silence = chunks(b"\0\0" * (RATE * (SILENCE_MS + CHUNK_MS) // 1000))
            spans: list[float] = []
            async with client.realtime.connect(model=MODEL) as connection:
                await one_round(connection, speech, silence)  # warm-up: engine start, caches
                for _ in range(rounds):
                    spans.append(await one_round(connection, speech, silence))
            await client.close()
        return {
            "engine": engine,
            "rounds": rounds,
            "end_of_speech_to_first_audio": latency_ms(spans),
        }
    finally:
        await runner.cleanup()
        shutil.rmtree(data, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="End of speech to first audio, /v1/realtime.")
    parser.add_argument("--rounds", type=int, default=40, help="measured turns")
    parser.add_argument("--engine", choices=("espeak", "piper"), default="espeak")
    args = parser.parse_args(argv)
    if args.engine == "espeak" and shutil.which("espeak-ng") is None:
        print("realtime bench skipped: espeak-ng is not installed (make speech-deps)")
        return 0
    configure_logging("warning")
    result = asyncio.run(measure(args.rounds, args.engine))
    figures = result["end_of_speech_to_first_audio"]
    print(
        f"realtime ({args.engine}, {args.rounds} turns): end of speech to first audio byte "
        f"p50 {figures['p50']:.0f} ms, p99 {figures['p99']:.0f} ms "
        f"(the VAD's {SILENCE_MS} ms of silence come before this span)"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
