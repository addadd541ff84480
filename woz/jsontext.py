"""JSON as woz reads and writes it on its busiest paths: compact, UTF-8.

Parsed and serialised by pydantic-core, several times faster than the standard
library, for what every request reads and writes: request bodies, response
bodies, stream events and operator frames. The output is plain JSON;
non-ASCII text is written as UTF-8, not as `\\u` escapes.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from aiohttp import web


def loads(data: str | bytes) -> Any:
    """The value of a JSON document (UTF-8 if bytes); raises `ValueError` saying where
    it is malformed."""
    return pydantic_core.from_json(data)


def dumps(obj: Any) -> str:
    """`obj` (JSON types only) as compact JSON text."""
    return pydantic_core.to_json(obj).decode()


def dumps_bytes(obj: Any) -> bytes:
    """`obj` (JSON types only) as compact UTF-8 JSON."""
    return pydantic_core.to_json(obj)


def json_response(obj: Any, *, status: int = 200) -> web.Response:
    """A response whose body is `obj` as JSON (`application/json; charset=utf-8`)."""
    return web.Response(
        body=pydantic_core.to_json(obj),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
