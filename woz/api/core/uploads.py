"""Reading a `multipart/form-data` request as a stream: one audio file and small fields.

The file goes to the data folder's media as it arrives (never whole in memory),
up to a size limit; the other fields are read as text, each up to 64 KiB. Fields
named `x[]` (how the SDKs send lists) are gathered into a list under `x`. Every
problem is a `WozError` for the caller's dialect, and a file saved for a request
that then fails is deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web

from woz.errors import ErrorKind, WozError, invalid_request
from woz.media.files import AUDIO_TYPES, MediaFolder, MediaTooLarge, SavedMedia, audio_extension

CHUNK = 64 * 1024
FIELD_LIMIT = 64 * 1024

FieldValue = str | list[str]


@dataclass
class Upload:
    """The form's text fields and its saved file (the caller deletes it if it fails)."""

    fields: dict[str, FieldValue] = field(default_factory=dict)
    file: SavedMedia | None = None
    filename: str | None = None

    def retry_key(self) -> bytes:
        """Stands in for the body bytes in the retry key: boundaries differ between tries."""
        fields = json.dumps(self.fields, sort_keys=True, separators=(",", ":"))
        digest = self.file.sha256 if self.file else ""
        return hashlib.sha256(f"{digest}\0{self.filename}\0{fields}".encode()).digest()


async def read_upload(
    request: web.Request, media: MediaFolder, *, file_field: str, limit: int
) -> Upload:
    """The form of `request`, its `file_field` saved to `media`; a `WozError` if malformed."""
    if request.content_type != "multipart/form-data":
        raise invalid_request(
            "This endpoint takes multipart/form-data (a file upload), "
            f"not {request.content_type or 'an empty body'}.",
            code="invalid_content_type",
        )
    upload = Upload()
    try:
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or not part.name:
                raise invalid_request(
                    "Every form part needs a name (no nested multipart).",
                    code="invalid_multipart",
                )
            if part.name == file_field:
                await _save_file(upload, part, media, file_field, limit)
            else:
                _add_field(upload.fields, part.name, await _read_text(part))
    except (ValueError, RuntimeError, AssertionError) as exc:
        await _discard(upload, media)
        raise invalid_request(
            f"The multipart body is malformed: {exc}.", code="invalid_multipart"
        ) from exc
    except BaseException:
        await _discard(upload, media)
        raise
    return upload


async def _save_file(
    upload: Upload, part: BodyPartReader, media: MediaFolder, name: str, limit: int
) -> None:
    if upload.file is not None:
        raise invalid_request(f"Send one '{name}', not several.", param=name)
    extension = audio_extension(part.filename, part.headers.get("Content-Type"))
    if extension is None:
        supported = ", ".join(sorted(AUDIO_TYPES))
        raise invalid_request(
            f"Invalid file format ({part.filename or 'no file name'}). "
            f"Supported formats: {supported}.",
            param=name,
            code="invalid_file_format",
        )
    upload.filename = part.filename
    try:
        upload.file = await media.save(_chunks(part), extension, limit)
    except MediaTooLarge as exc:
        raise WozError(
            ErrorKind.TOO_LARGE,
            f"The '{name}' is too large: at most {limit // (1024 * 1024)} MB.",
            param=name,
            code="file_too_large",
        ) from exc


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def _read_text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise invalid_request(f"The form field '{part.name}' is too long.", param=part.name)
    try:
        return data.decode(part.get_charset("utf-8"))
    except (UnicodeDecodeError, LookupError) as exc:
        raise invalid_request(f"'{part.name}' is not UTF-8 text.", param=part.name) from exc


def _add_field(fields: dict[str, FieldValue], name: str, value: str) -> None:
    if name.endswith("[]"):
        listed = fields.setdefault(name[:-2], [])
        if isinstance(listed, list):
            listed.append(value)
        return
    fields[name] = value


async def _discard(upload: Upload, media: MediaFolder) -> None:
    if upload.file is not None:
        await media.delete(upload.file.id)
        upload.file = None
