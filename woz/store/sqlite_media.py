"""Uploaded media on one machine: files in the `media` folder beside the database."""

from __future__ import annotations

import tempfile
from pathlib import Path

from woz.store.database import SQLiteDatabase
from woz.store.media import MediaFiles


class MediaTables(SQLiteDatabase):
    """`MediaStore` as files; the folder is the data folder's `media` (see `woz.media`)."""

    def _media_files(self) -> MediaFiles:
        if self._media_root is None:  # `:memory:`: a throwaway folder for a throwaway store
            self._media_root = Path(tempfile.mkdtemp(prefix="woz-media-"))
        return MediaFiles(self._media_root)

    async def put_media(self, media_id: str, source: Path) -> Path:
        return await self._media_files().adopt(media_id, source)

    async def media_file(self, media_id: str) -> Path | None:
        return self._media_files().path(media_id)

    async def delete_media(self, media_id: str) -> None:
        await self._media_files().remove(media_id)
