"""`manifest.json`: what an export contains, what it left out and why, and file hashes.

Written last, so it can hash every other file of the export (the dataset card
included). The dataset card's counts come from the same `Manifest` object, so
the two cannot disagree.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel


class FileEntry(BaseModel):
    sha256: str
    bytes: int
    rows: int | None = None


class Manifest(BaseModel):
    woz_version: str
    study_id: str
    study_title: str
    definition_sha256: str
    format: str
    purpose: str
    created_at: datetime
    license: str
    permitted_uses: list[str]
    deception: str
    records: int
    participants: int
    operators: int
    operators_trained: int = 0  # of `operators`, those with a recorded training
    operators_consented: int = 0  # of `operators`, those whose reuse consent covers `purpose`
    produced_by: dict[str, int]
    exclusions: dict[str, int]
    included_on_request: dict[str, int]
    withdrawn_participants: int
    tombstones: list[str]
    redactions: dict[str, int]
    files: dict[str, FileEntry] = {}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_files(out: Path, rows: dict[str, int]) -> dict[str, FileEntry]:
    """Every file under `out` (but the manifest; audio files in their folder) by its
    relative path, with its hash, size and, for data, rows."""
    return {
        name: FileEntry(sha256=sha256_file(path), bytes=path.stat().st_size, rows=rows.get(name))
        for path in sorted(out.rglob("*"))
        if path.is_file() and (name := path.relative_to(out).as_posix()) != "manifest.json"
    }
