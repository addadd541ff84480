"""Long redactions run in a thread, so the event loop keeps serving meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import STUDY_TOML
from woz.models.task import ContentPart, Message, Task
from woz.off_loop import OffLoop
from woz.research.admission import REDACT_INLINE_CHARS
from woz.research.privacy import Finding
from woz.research.service import build_research
from woz.store.sqlite import SQLiteStore
from woz.study import parse_study

PRIVATE = STUDY_TOML + '\n[privacy]\nredact = ["email", "phone"]\n'


class ThreadWitness:
    """A plug-in recogniser that finds nothing and notes which thread ran it."""

    kind = "witness"
    placeholder = "WITNESS"

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def find(self, text: str) -> Iterator[Finding]:
        self.threads.append(threading.current_thread())
        return iter(())


def task_saying(text: str) -> Task:
    return Task(
        study_id="test-study",
        persona="wizard",
        api="openai.chat_completions",
        messages=[Message(role="user", content=[ContentPart(type="text", text=text)])],
        received_at=datetime.now(UTC),
        request_key="key",
    )


async def test_a_large_task_is_redacted_off_the_event_loop(tmp_path: Path) -> None:
    """Above 64 KiB of text a task is redacted in another thread; a small one inline."""
    store = SQLiteStore(tmp_path / "woz.db")
    await store.open()
    witness = ThreadWitness()
    try:
        research = build_research(
            store, parse_study(PRIVATE), b"s" * 32, str, recognisers=[witness]
        )
        small = await research.admission(task_saying("mail a@x.org"))
        large = await research.admission(task_saying("mail a@x.org " + "x" * REDACT_INLINE_CHARS))
    finally:
        await store.close()
    loop_thread = threading.current_thread()
    assert [thread is loop_thread for thread in witness.threads] == [True, False]
    for task in (small, large):
        assert task.messages[0].text().startswith("mail [EMAIL_1]")


async def test_an_error_in_the_thread_reaches_the_caller() -> None:
    """What the computation raises, its caller gets."""
    with pytest.raises(ZeroDivisionError):
        await OffLoop(threads=1).run(lambda: 1 / 0)


async def test_a_turn_ends_with_its_thread_not_with_its_caller() -> None:
    """A caller that stops waiting does not free its turn: callers that leave cannot pile
    up threads, and the next computation starts once the abandoned one ends."""
    off_loop = OffLoop(threads=1)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(30)
        return "slow"

    first = asyncio.create_task(off_loop.run(slow))
    await asyncio.to_thread(started.wait, 30)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    second = asyncio.create_task(off_loop.run(lambda: "second"))
    done, _ = await asyncio.wait({second}, timeout=0.2)
    assert not done
    release.set()
    assert await asyncio.wait_for(second, 30) == "second"
