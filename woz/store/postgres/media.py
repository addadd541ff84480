"""Uploaded media in PostgreSQL: the bytes in the database (`bytea`), read by every
process; a local folder caches them so that a server can send byte ranges.

The cache is checked against the database on every read: media deleted by any
process (a failed request, a withdrawal) is never served again, and the cached
copy is removed when next asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from woz.store.media import valid_media_id
from woz.store.postgres.database import PostgresDatabase


class PgMediaTables(PostgresDatabase):
    async def put_media(self, media_id: str, source: Path) -> Path:
        if not valid_media_id(media_id):
            raise ValueError(f"not a media id: {media_id!r}")
        data = await asyncio.to_thread(source.read_bytes)
        await self._execute(
            "INSERT INTO media (id, size, data) VALUES (%s, %s, %s)", (media_id, len(data), data)
        )
        try:
            return await self._media.adopt(media_id, source)
        except OSError:  # another folder's file system: the database has it anyway
            with contextlib.suppress(OSError):
                os.unlink(source)
            return await self._media.write(media_id, data)

    async def media_file(self, media_id: str) -> Path | None:
        if not valid_media_id(media_id):
            return None
        rows = await self._rows("SELECT size FROM media WHERE id = %s", (media_id,))
        if not rows:
            await self._media.remove(media_id)  # deleted by another process
            return None
        cached = self._media.path(media_id)
        if cached is not None and cached.stat().st_size == rows[0]["size"]:
            return cached
        fetched = await self._rows("SELECT data FROM media WHERE id = %s", (media_id,))
        if not fetched:
            return None
        return await self._media.write(media_id, bytes(fetched[0]["data"]))

    async def delete_media(self, media_id: str) -> None:
        if valid_media_id(media_id):
            await self._execute("DELETE FROM media WHERE id = %s", (media_id,))
            await self._media.remove(media_id)
