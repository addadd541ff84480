"""Voice turns in the data: audio kept with consent, exported beside the hf dataset, and
deleted on withdrawal."""

from __future__ import annotations

import wave
from pathlib import Path

import openai
import pytest

from tests.conftest import STUDY_TOML, Woz
from tests.integration.realtime_client import Events, silence, spoken, stream
from woz.export import export_dataset
from woz.media.files import MEDIA_URL_PREFIX

KEEPING = STUDY_TOML + '\n[voice]\nengine = "espeak"\nkeep_audio = true\n'
SAID = "Can you hear me?"


async def spoken_turn(woz: Woz, client: openai.AsyncOpenAI) -> str:
    """One spoken turn by participant `ada`, answered; returns its record id."""
    op = await woz.online_operator()
    async with client.realtime.connect(
        model="wizard", extra_headers={"X-Woz-Participant": "ada"}
    ) as conn:
        events = Events(conn)
        await events.until("session.created")
        await stream(conn, silence(0.3) + spoken(SAID) + silence(0.8))
        task = await op.next_task()
        ack = await op.reply(task["id"], "Yes, loud and clear.", transcript=SAID)
        await events.until("response.done")
    return str(ack["record_id"])


@pytest.mark.parametrize("study_toml", [KEEPING], indirect=True)
async def test_kept_audio_is_exported_beside_the_hf_data(
    woz: Woz, openai_client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    """The recording stays, the hf export carries it as a WAV named by `audio`, the card
    says under what setting it was kept, and withdrawal deletes it."""
    record_id = await spoken_turn(woz, openai_client)
    record = await woz.store.get_record(record_id)
    assert record is not None and record.voice is not None
    assert record.voice.audio_kept and record.voice.input_audio is not None
    media_id = record.voice.input_audio
    [part] = [p for p in record.messages[-1].content if p.type == "audio"]
    assert part.url == MEDIA_URL_PREFIX + media_id
    assert await woz.store.media_file(media_id) is not None

    out = tmp_path / "hf"
    manifest = await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", out)
    row = (out / "data.jsonl").read_text().splitlines()[0]
    assert f'"audio":"audio/{media_id}"' in row and f'"input_transcript":"{SAID}"' in row
    with wave.open(str(out / "audio" / media_id), "rb") as audio:
        assert audio.getframerate() == 24_000 and audio.getnframes() > 24_000 // 2
    assert f"audio/{media_id}" in manifest.files
    card = (out / "README.md").read_text()
    assert "## Audio" in card and "keep_audio = true" in card and "espeak:" in card

    await woz.runtime.participants.withdraw(record.participant or "", "test")
    assert await woz.store.media_file(media_id) is None
