"""The media protocol: uploaded files (audio to transcribe), readable by every process.

A media id is `med_<32 hex>.<extension>`; anything else is unknown to every
method (no path tricks). `put_media` takes a complete file the caller wrote to
local disk and makes it the store's, durably; `media_file` gives a local file
with the bytes, so that a server can send it with byte ranges.

Backends: SQLite keeps the files in the data folder's `media` folder (one machine);
PostgreSQL keeps the bytes in the database (`bytea`), so every process on every
machine reads the same media, and holds a local copy as a cache that is checked
against the database on every read (a deleted file is never served again, and
its cached copy is removed when next asked for).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from pathlib import Path
from typing import Protocol

MEDIA_ID = re.compile(r"^med_[0-9a-f]{32}\.([a-z0-9]{1,5})$")


def valid_media_id(media_id: str) -> bool:
    """Whether `media_id` has the form every store gives (no path can hide in it)."""
    return MEDIA_ID.match(media_id) is not None


class MediaStore(Protocol):
    async def put_media(self, media_id: str, source: Path) -> Path:
        """Keep the complete file at `source` under `media_id`, durably; `source` is
        moved or removed. Returns a local file holding the bytes."""

    async def media_file(self, media_id: str) -> Path | None:
        """A local file holding the media's bytes, or None if unknown or deleted."""

    async def delete_media(self, media_id: str) -> None:
        """Forget the media everywhere; nothing happens for an unknown id."""


class MediaFiles:
    """A local folder of media files named by their ids, written by rename only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, media_id: str) -> Path | None:
        """The file of a well-formed, existing id; None for anything else."""
        if not valid_media_id(media_id):
            return None
        path = self.root / media_id
        return path if path.is_file() else None

    async def adopt(self, media_id: str, source: Path) -> Path:
        """Move `source` into the folder under `media_id` (atomically)."""
        if not valid_media_id(media_id):
            raise ValueError(f"not a media id: {media_id!r}")
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        target = self.root / media_id
        await asyncio.to_thread(os.replace, source, target)
        return target

    async def write(self, media_id: str, data: bytes) -> Path:
        """Write `data` under `media_id` (through a temporary file and a rename)."""
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        temporary = self.root / f".fetch-{media_id}-{os.getpid()}"
        await asyncio.to_thread(temporary.write_bytes, data)
        return await self.adopt(media_id, temporary)

    async def remove(self, media_id: str) -> None:
        if valid_media_id(media_id):
            with contextlib.suppress(OSError):
                await asyncio.to_thread((self.root / media_id).unlink)
