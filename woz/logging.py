"""structlog, configured once by the CLI, writing straight to the stream.

A terminal gets the console renderer; anything else (a file, a log collector)
gets one JSON object per line, serialised by pydantic-core and written as bytes
to the stream with no stdlib `logging` handler in between: on the request path
a log line costs one serialisation and one write, and a call below the level is
a no-op (structlog's filtering logger). Request and task ids are bound once with
`structlog.contextvars`, so every line in a request's context carries them.
Secrets are never passed to a logger.

What goes out at the default `info`: the server starting, errors, operators
joining and leaving, a periodic summary (`woz.log_summary`), and the
dispatcher's line per task queued and assigned. Other libraries (aiohttp,
asyncio) log through the standard library at `warning` and above, in the same
format.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import pydantic_core
import structlog


def _json_bytes(event: Any, **_: Any) -> bytes:
    """One event as compact JSON; values JSON cannot hold are written as their repr."""
    return pydantic_core.to_json(event, fallback=repr)


def configure_logging(
    level: str = "info", *, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Route woz's structlog events and other libraries' stdlib records to `stream`
    (standard error by default), at `level` for woz and at least `warning` for the rest."""
    out = stream if stream is not None else sys.stderr
    use_json = not out.isatty() if json is None else json
    numeric = logging.getLevelName(level.upper())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    factory: structlog.BytesLoggerFactory | structlog.WriteLoggerFactory
    last: list[structlog.typing.Processor]
    binary = getattr(out, "buffer", None)  # a text stream's bytes underneath it
    if use_json and binary is not None:
        renderer = structlog.processors.JSONRenderer(serializer=_json_bytes)
        factory = structlog.BytesLoggerFactory(binary)
        last = [structlog.processors.format_exc_info, renderer]
    elif use_json:
        renderer = structlog.processors.JSONRenderer(serializer=_json_text)
        factory = structlog.WriteLoggerFactory(out)
        last = [structlog.processors.format_exc_info, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
        factory = structlog.WriteLoggerFactory(out)
        last = [renderer]
    structlog.configure(
        processors=[*shared, *last],
        logger_factory=factory,
        # A filtering logger turns calls below the level into no-ops: on the request
        # path an ignored `log.debug` must cost nothing.
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=True,
    )
    # Other libraries: the standard library's records, rendered the same way. Not on
    # woz's hot path (aiohttp's access log is off; its errors are rare).
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(serializer=_json_text) if use_json else renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))


def _json_text(event: Any, **_: Any) -> str:
    return _json_bytes(event).decode()
