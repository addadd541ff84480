"""The media folder: audio formats recognised, uploads saved whole or not at all, safe ids."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from woz.media.files import MediaFolder, MediaTooLarge, audio_extension, wav_duration
from woz.store.sqlite import SQLiteStore


async def chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def test_format_from_name_then_content_type() -> None:
    """The file name's extension wins; a name without one falls back to the Content-Type."""
    assert audio_extension("Speech.WAV", "application/octet-stream") == "wav"
    assert audio_extension("blob", "audio/mpeg") == "mp3"
    assert audio_extension(None, "audio/webm; codecs=opus") == "webm"
    assert audio_extension("notes.txt", "text/plain") is None


async def test_saved_upload_is_found_by_its_id_only(tmp_path: Path) -> None:
    """A saved file has a random id ending in its format; other names never resolve."""
    store = SQLiteStore(tmp_path / "woz.db")
    media = MediaFolder(tmp_path / "media", store)
    saved = await media.save(chunks(b"RIFF", b"data"), "wav", limit=100)
    assert saved.size == 8 and saved.media_type == "audio/wav"
    assert await media.path_of(saved.id) == saved.path
    assert saved.path.read_bytes() == b"RIFFdata"
    for bad in ("../woz.db", saved.id.replace(".wav", ".exe"), "med_x.wav", saved.id + "/"):
        assert await media.path_of(bad) is None
    await media.delete(saved.id)
    assert await media.path_of(saved.id) is None


async def test_an_upload_past_the_limit_leaves_nothing(tmp_path: Path) -> None:
    """The temporary file is removed when the limit is crossed."""
    media = MediaFolder(tmp_path / "media", SQLiteStore(tmp_path / "woz.db"))
    with pytest.raises(MediaTooLarge):
        await media.save(chunks(b"x" * 60, b"x" * 60), "mp3", limit=100)
    assert list((tmp_path / "media").iterdir()) == []


def test_wav_duration_reads_the_header(tmp_path: Path) -> None:
    """Frames over rate for a WAV; 0.0 for anything `wave` cannot read."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * 24000)
    good, bad = tmp_path / "a.wav", tmp_path / "b.wav"
    good.write_bytes(buffer.getvalue())
    bad.write_bytes(b"ID3 not a wave")
    assert wav_duration(good) == 1.5
    assert wav_duration(bad) == 0.0
