"""Talk to a voice assistant over the OpenAI Realtime API: a WAV in, the spoken answer out.

Nothing here knows woz: it is what an app does with any Realtime model. It streams
the WAV (16-bit mono, any rate: resampled to 24 kHz) as a microphone would, lets the
server's voice detector end the turn, then writes the spoken answer to a WAV and
prints its transcript. Serve the study
(`woz serve --study examples/voice_assistant/study.toml`), create an app key
(`woz keys create --study voice-assistant --role app`), log an operator in, then:

    WOZ_URL=http://127.0.0.1:8000 WOZ_APP_KEY=woz-app-... \\
        python examples/voice_assistant/app.py question.wav answer.wav
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import wave

from openai import AsyncOpenAI

RATE = 24_000  # the Realtime API's PCM16 rate
CHUNK_MS = 100


def read_pcm(path: str) -> bytes:
    """The WAV's samples as 24 kHz PCM16 mono (linear interpolation is plenty for speech)."""
    with wave.open(path, "rb") as audio:
        if audio.getsampwidth() != 2 or audio.getnchannels() != 1:
            sys.exit(f"{path}: expected 16-bit mono audio")
        rate, frames = audio.getframerate(), audio.readframes(audio.getnframes())
    samples = memoryview(frames).cast("h")
    count = len(samples) * RATE // rate
    out = bytearray()
    for i in range(count):
        position = i * rate / RATE
        left = samples[min(int(position), len(samples) - 1)]
        right = samples[min(int(position) + 1, len(samples) - 1)]
        out += int(left + (right - left) * (position - int(position))).to_bytes(
            2, "little", signed=True
        )
    return bytes(out) + b"\0\0" * RATE  # a second of silence: the end of the turn


async def main(question: str, answer_path: str) -> None:
    client = AsyncOpenAI(base_url=os.environ["WOZ_URL"] + "/v1", api_key=os.environ["WOZ_APP_KEY"])
    pcm = read_pcm(question)
    step = RATE * 2 * CHUNK_MS // 1000
    spoken = bytearray()
    async with client.realtime.connect(model="chef") as connection:
        for start in range(0, len(pcm), step):
            chunk = base64.b64encode(pcm[start : start + step]).decode()
            await connection.input_audio_buffer.append(audio=chunk)
        async for event in connection:
            if event.type == "conversation.item.input_audio_transcription.completed":
                print(f"you> {event.transcript}")
            elif event.type == "response.output_audio.delta":
                spoken += base64.b64decode(event.delta)
            elif event.type == "response.output_audio_transcript.done":
                print(f"assistant> {event.transcript}")
            elif event.type == "error":
                sys.exit(f"error: {event.error.message}")
            elif event.type == "response.done":
                break
    with wave.open(answer_path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(spoken))
    print(f"({len(spoken) / 2 / RATE:.1f} s of speech in {answer_path})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: app.py QUESTION.wav ANSWER.wav")
    asyncio.run(main(sys.argv[1], sys.argv[2]))
