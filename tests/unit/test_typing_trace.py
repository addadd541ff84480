"""The operator's typing trace: only what changed, replayable, and bounded."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.records import T0
from woz.models.typing_trace import MAX_CHARS, MAX_EVENTS, TypingRecorder, replay


def test_the_trace_keeps_changes_and_replays_every_draft() -> None:
    """Typing, a deletion and a retyped word come back as the drafts at their times."""
    recorder = TypingRecorder(T0)
    drafts = ["H", "Hel", "Hello wrold", "Hello w", "Hello world", "Hello world"]
    for n, draft in enumerate(drafts):
        recorder.note(draft, T0 + timedelta(milliseconds=250 * (n + 1)))
    trace = recorder.trace
    assert trace.events[2] == (750, 3, "lo wrold") and trace.events[3] == (1000, 7, "")
    assert replay(trace) == [
        (250, "H"), (500, "Hel"), (750, "Hello wrold"), (1000, "Hello w"), (1250, "Hello world"),
    ]  # fmt: skip
    assert not trace.truncated


def test_a_long_session_of_typing_stops_at_the_bounds() -> None:
    by_events = TypingRecorder(T0)
    for n in range(MAX_EVENTS + 10):
        by_events.note("x" * (n % 2 + 1), T0)
    assert len(by_events.trace.events) == MAX_EVENTS and by_events.trace.truncated
    by_chars = TypingRecorder(T0)
    by_chars.note("a" * MAX_CHARS, T0)
    by_chars.note("b", T0)
    assert len(by_chars.trace.events) == 1 and by_chars.trace.truncated
