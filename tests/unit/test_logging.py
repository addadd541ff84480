"""Logging: JSON lines written as bytes, ids bound once, levels, other libraries at warning,
and the periodic summary's figures."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
import structlog.testing

from woz.log_summary import AnswerStats, summarise
from woz.logging import configure_logging


class _Stream(io.TextIOWrapper):
    """A non-terminal text stream over bytes, like standard error redirected to a file."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)

    def lines(self) -> list[dict[str, object]]:
        self.flush()
        raw = self.buffer.getvalue()  # type: ignore[attr-defined]
        return [json.loads(line) for line in raw.decode().splitlines() if line]


@pytest.fixture
def stream() -> Iterator[_Stream]:
    out = _Stream()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_events_are_json_lines_with_the_bound_ids(stream: _Stream) -> None:
    configure_logging("info", stream=stream)
    log = structlog.get_logger("woz.test")
    tokens = structlog.contextvars.bind_contextvars(request_id="req_1")
    log.info("operator.connected", operator="key_a", held=0)
    structlog.contextvars.reset_contextvars(**tokens)
    log.warning("after", text="ünïcode")
    first, second = stream.lines()
    assert first["event"] == "operator.connected"
    assert first["request_id"] == "req_1"
    assert first["level"] == "info"
    assert first["held"] == 0
    assert "timestamp" in first
    assert "request_id" not in second
    assert second["text"] == "ünïcode"


def test_below_the_level_nothing_is_written(stream: _Stream) -> None:
    configure_logging("info", stream=stream)
    structlog.get_logger("woz.test").debug("task.queued", task_id="task_1")
    assert stream.lines() == []
    configure_logging("debug", stream=stream)
    structlog.get_logger("woz.test").debug("task.queued", task_id="task_1")
    assert [line["event"] for line in stream.lines()] == ["task.queued"]


def test_other_libraries_log_at_warning_in_the_same_format(stream: _Stream) -> None:
    configure_logging("debug", stream=stream)
    aiohttp_log = logging.getLogger("aiohttp.server")
    aiohttp_log.info("not shown")
    aiohttp_log.warning("shown %s", "here")
    (line,) = stream.lines()
    assert line["event"] == "shown here"
    assert line["level"] == "warning"


def test_exceptions_are_rendered_with_their_traceback(stream: _Stream) -> None:
    configure_logging("info", stream=stream)
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("woz.test").exception("store.mark_failed")
    (line,) = stream.lines()
    assert "ValueError: boom" in str(line["exception"])


def test_values_json_cannot_hold_are_written_as_their_repr(stream: _Stream) -> None:
    configure_logging("info", stream=stream)
    structlog.get_logger("woz.test").info("odd", value={1, 2} and object)
    (line,) = stream.lines()
    assert "object" in str(line["value"])


def test_summary_percentiles_are_within_their_bucket() -> None:
    stats = AnswerStats()
    for ms in range(1, 101):  # 1 .. 100 ms
        stats.answered(ms / 1000)
    figures = stats.take()
    assert figures["answered"] == 100
    p50, p99 = figures["p50_ms"], figures["p99_ms"]
    assert isinstance(p50, float) and isinstance(p99, float)
    assert 50 <= p50 <= 50 * 1.05
    assert 99 <= p99 <= 99 * 1.05
    # The next interval starts from nothing.
    assert stats.take() == {"answered": 0, "p50_ms": None, "p99_ms": None}


class _Intervals:
    """`waiting` for `summarise`: counts its calls; `passed` is set on the third, when
    two intervals' lines have been logged (a line follows its call at once)."""

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        self.calls = 0
        self.passed = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        if self.calls >= 3:
            self.passed.set()
        return self.waiting


async def _summaries(stats: AnswerStats, waiting: int) -> list[dict[str, object]]:
    """The `woz.summary` events logged over two intervals."""
    intervals = _Intervals(waiting)
    with structlog.testing.capture_logs() as events:
        summary = asyncio.create_task(summarise(stats, intervals, 0.01))
        try:
            async with asyncio.timeout(5):
                await intervals.passed.wait()
        finally:
            summary.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await summary
    return [e for e in events if e["event"] == "woz.summary"]


async def test_the_summary_line_says_answered_waiting_and_percentiles() -> None:
    stats = AnswerStats()
    stats.answered(0.004)
    first, second, *_ = await _summaries(stats, waiting=7)
    assert first["answered"] == 1
    assert first["waiting"] == 7
    assert first["log_level"] == "info"
    p50 = first["p50_ms"]
    assert isinstance(p50, float) and 4 <= p50 <= 4 * 1.05
    assert second["answered"] == 0  # each interval counts its own answers
    assert second["waiting"] == 7


async def test_an_idle_server_logs_no_summary() -> None:
    assert await _summaries(AnswerStats(), waiting=0) == []
