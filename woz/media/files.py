"""Media that apps upload (audio to transcribe), kept by the store for operators.

A file's id is `med_<32 hex>.<extension>`: random, so it cannot be guessed, and
ending in the format, which gives its Content-Type when an operator's console
plays it (no side file to keep in step). Uploads are written to a temporary file
in the data folder as they arrive and handed to the store (`MediaStore`) only
when complete and within the size limit, so a half-written file never has an id.
The files are part of the study's data, like the records that name them: SQLite
keeps them in `<data>/media`, PostgreSQL in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import mutagen

from woz.media.webm import webm_duration
from woz.models.task import new_id
from woz.store.media import MEDIA_ID, MediaStore

# The formats OpenAI's transcription endpoint takes, with the type browsers play them as.
AUDIO_TYPES = {
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "mp3": "audio/mpeg",
    "mp4": "audio/mp4",
    "mpeg": "audio/mpeg",
    "mpga": "audio/mpeg",
    "oga": "audio/ogg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "webm": "audio/webm",
}
# Content-Types clients send for those formats, for uploads whose name has no extension.
_EXTENSION_OF_TYPE = {
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "video/mp4": "mp4",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/webm": "webm",
    "video/webm": "webm",
}


class MediaTooLarge(Exception):
    """An upload went past its size limit; nothing of it was kept."""


def audio_extension(filename: str | None, content_type: str | None) -> str | None:
    """The audio format of an upload, from its file name or else its Content-Type."""
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix in AUDIO_TYPES:
        return suffix
    media_type = (content_type or "").split(";")[0].strip().lower()
    return _EXTENSION_OF_TYPE.get(media_type)


@dataclass(frozen=True)
class SavedMedia:
    """A complete upload: its id, where it is, how big, and its SHA-256 (for retry keys)."""

    id: str
    path: Path
    size: int
    sha256: str

    @property
    def media_type(self) -> str:
        return media_type_of(self.id)


def media_type_of(media_id: str) -> str:
    return AUDIO_TYPES.get(media_id.rsplit(".", 1)[-1], "application/octet-stream")


def audio_duration(path: Path) -> float:
    """The length in seconds of an audio file, or 0.0 when it cannot be told.

    WAV is read exactly; mp3, m4a, ogg and flac from their headers (mutagen); WebM
    from its blocks' timecodes, since browsers' recordings state no length."""
    if path.suffix == ".wav":
        return wav_duration(path)
    if path.suffix == ".webm":
        return webm_duration(path)
    try:
        audio = mutagen.File(path)
    except (mutagen.MutagenError, OSError, ValueError):
        return 0.0
    length = getattr(getattr(audio, "info", None), "length", None)
    return round(float(length), 3) if length else 0.0


def wav_duration(path: Path) -> float:
    """The length in seconds of a WAV file, or 0.0 when it is not one `wave` can read."""
    try:
        with wave.open(str(path), "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() / rate, 3) if rate else 0.0
    except (wave.Error, EOFError, OSError):
        return 0.0


MEDIA_URL_PREFIX = "/operator/media/"
"""Where operators fetch an upload: tasks refer to media by this prefix and the id."""


class MediaFolder:
    """Uploads streamed to a spool folder (`root`), then kept by `store`."""

    def __init__(self, root: Path, store: MediaStore) -> None:
        self.root = root
        self._store = store

    async def path_of(self, media_id: str) -> Path | None:
        """A local file with the media of a well-formed, known id; None for anything else
        (no path tricks)."""
        match = MEDIA_ID.match(media_id)
        if match is None or match.group(1) not in AUDIO_TYPES:
            return None
        return await self._store.media_file(media_id)

    async def save(self, chunks: AsyncIterator[bytes], extension: str, limit: int) -> SavedMedia:
        """Write `chunks` to a new file; raises `MediaTooLarge` past `limit` bytes."""
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        handle, temporary = await asyncio.to_thread(
            tempfile.mkstemp, dir=self.root, prefix=".upload-"
        )
        hasher = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(handle, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise MediaTooLarge(f"the file is larger than {limit} bytes")
                    hasher.update(chunk)
                    out.write(chunk)  # into the page cache: quick enough for the event loop
            media_id = f"{new_id('med_', 16)}.{extension}"
            path = await self._store.put_media(media_id, Path(temporary))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        return SavedMedia(media_id, path, size, hasher.hexdigest())

    async def delete(self, media_id: str) -> None:
        """Forget a file no task refers to (its request failed, or joined another task,
        or its participant withdrew)."""
        await self._store.delete_media(media_id)


__all__ = [
    "AUDIO_TYPES",
    "MEDIA_URL_PREFIX",
    "MediaFolder",
    "MediaTooLarge",
    "SavedMedia",
    "audio_extension",
    "media_type_of",
    "wav_duration",
]
