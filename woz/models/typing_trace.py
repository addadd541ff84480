"""The operator's typing, kept with the record so a researcher can replay it at real speed.

Each `typing` frame carries the operator's whole draft; the trace keeps only what
changed: `(ms, keep, insert)`, the milliseconds since the task was received, how
many characters of the previous draft stay, and the text typed after them. Replaying
is `draft = draft[:keep] + insert` at each `ms`.

Bounded, since an operator may type for a long time: at most `MAX_EVENTS` changes
and `MAX_CHARS` characters inserted in all; after that the trace stops growing and
says it was `truncated` (the record's answer is still whole).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

MAX_EVENTS = 2000
MAX_CHARS = 20_000


class TypingTrace(BaseModel):
    events: list[tuple[int, int, str]] = Field(default_factory=list)
    truncated: bool = False

    def note(self, previous: str, text: str, ms: int) -> None:
        """The draft went from `previous` (the last one noted) to `text` at `ms`."""
        if text == previous or self.truncated:
            return
        keep = 0
        limit = min(len(text), len(previous))
        while keep < limit and text[keep] == previous[keep]:
            keep += 1
        insert = text[keep:]
        chars = sum(len(event[2]) for event in self.events)
        if len(self.events) >= MAX_EVENTS or chars + len(insert) > MAX_CHARS:
            self.truncated = True
            return
        self.events.append((max(0, ms), keep, insert))


class TypingRecorder:
    """Builds the trace of one task from its drafts, in order of arrival."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._last = ""
        self.trace = TypingTrace()

    def note(self, text: str, at: datetime) -> None:
        self.trace.note(self._last, text, since(self._start, at))
        if not self.trace.truncated:
            self._last = text


def since(start: datetime, at: datetime) -> int:
    """Milliseconds from `start` to `at`, as a trace's events count them."""
    return round((at - start).total_seconds() * 1000)


def replay(trace: TypingTrace) -> list[tuple[int, str]]:
    """The draft after each event: `(ms, text)`, as a watcher sees it typed."""
    draft, shown = "", []
    for ms, keep, insert in trace.events:
        draft = draft[:keep] + insert
        shown.append((ms, draft))
    return shown
