"""Loading a study file: TOML parsed, validated, and refused with a useful message.

A refusal names the file, the line where the offending key sits (when it can be
found), the dotted field path, and what was expected.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from woz.models.study import Study


class StudyFileError(Exception):
    """A study file that cannot be used; `str()` is the message for the user."""


def load_study(path: Path) -> Study:
    """Read and validate `path`, or raise `StudyFileError` naming field and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StudyFileError(f"{path}: cannot read the study file ({exc.strerror})") from exc
    return parse_study(text, source=str(path))


def parse_study(text: str, source: str = "<study>") -> Study:
    """Validate study TOML given as text; `source` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return Study.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error, text, source) for error in exc.errors()]
        raise StudyFileError("\n".join(problems)) from exc


def _describe(error: object, text: str, source: str) -> str:
    assert isinstance(error, dict)
    loc = tuple(error["loc"])
    field = _dotted(loc)
    line = find_line(text, loc)
    where = f"{source}:{line}" if line else source
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown field {field!r} (check its spelling; see the study file docs)"
    if error["type"] == "missing":
        return f"{where}: missing required field {field!r}"
    if error["type"] == "value_error" and isinstance(error.get("input"), dict):
        # A rule across a whole table: its message names the fields, the input is the table.
        return f"{where}: {field or 'study file'}: {error['msg'].removeprefix('Value error, ')}"
    given = error.get("input")
    return f"{where}: field {field!r}: {error['msg']} (got {given!r})"


def _dotted(loc: tuple[object, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts)


_TABLE = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def find_line(text: str, loc: tuple[object, ...]) -> int | None:
    """The 1-based line of the key at `loc` in TOML `text`, or of its table.

    Handles the shapes study files use: `[table]`, `[table.sub]`, `[[array]]`
    and `key = value` lines. Returns None when the location cannot be found,
    for example when the value is written inline.
    """
    wanted_table: list[str] = []
    index: int | None = None
    key: str | None = None
    for item in loc:
        if isinstance(item, int):
            index = item
        elif key is None and index is None and item != loc[-1]:
            wanted_table.append(str(item))
        else:
            key = str(item)
            break
    table: list[str] = []
    array_counts: dict[str, int] = {}
    table_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            table = header.group(2).split(".")
            name = ".".join(table)
            if key is not None and table == [*wanted_table, key]:
                return number
            if header.group(1):
                array_counts[name] = array_counts.get(name, -1) + 1
            if table == wanted_table and (index is None or array_counts.get(name, -1) == index):
                table_line = number
            continue
        match = _KEY.match(line)
        if match and key is not None and match.group(1) == key and table == wanted_table:
            name = ".".join(table)
            if index is None or array_counts.get(name, -1) == index:
                return number
    return table_line
