"""Uploaded media on one machine: files in the `media` folder beside the database."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from woz.store.media import MediaFiles
from woz.store.sqlite.database import SQLiteDatabase


class MediaTables(SQLiteDatabase):
    """`MediaStore` as files; the folder is the data folder's `media` (see `woz.media.files`)."""

    _throwaway_media: Path | None = None

    def _media_files(self) -> MediaFiles:
        if self._media_root is None:  # `:memory:`: a throwaway folder for a throwaway store
            self._media_root = self._throwaway_media = Path(tempfile.mkdtemp(prefix="woz-media-"))
        return MediaFiles(self._media_root)

    async def close(self) -> None:
        await super().close()
        if self._throwaway_media is not None:
            await asyncio.to_thread(shutil.rmtree, self._throwaway_media, True)

    async def put_media(self, media_id: str, source: Path) -> Path:
        return await self._media_files().adopt(media_id, source)

    async def media_file(self, media_id: str) -> Path | None:
        return self._media_files().path(media_id)

    async def delete_media(self, media_id: str) -> None:
        await self._media_files().remove(media_id)
