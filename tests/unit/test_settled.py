"""Answers kept for retries: found by task and request key, gone after their time or
past capacity."""

from __future__ import annotations

from datetime import UTC, datetime

from woz.dispatch.base import Delivery
from woz.dispatch.settled import SettledAnswers
from woz.models.task import Answer, Task


def task(name: str, key: str | None = None) -> Task:
    return Task(
        id=f"task_{name}",
        study_id="s",
        persona="p",
        api="openai.chat_completions",
        messages=[],
        received_at=datetime.now(UTC),
        request_key=key or f"key-{name}",
        request_digest=f"asked-{name}",
    )


def delivery(text: str) -> Delivery:
    return Delivery(Answer(content=text), "rec_" + text)


def test_an_answer_is_found_by_its_task_and_its_request_key() -> None:
    """An answer is found by its task id and among its request key's answers, with its digest."""
    settled = SettledAnswers(ttl_s=600)
    settled.add(task("a"), delivery("a"), delivered=True)
    found = settled.get("task_a")
    assert found is not None and found.delivered and found.request_digest == "asked-a"
    assert found.delivery.answer.content == "a"
    assert settled.for_key("key-a") == [found]
    assert settled.get("task_b") is None and settled.for_key("key-b") == []


def test_answers_sharing_a_request_key_are_all_kept_latest_first() -> None:
    """Identical requests of different people each keep their own answer."""
    settled = SettledAnswers(ttl_s=600)
    settled.add(task("a", key="hi"), delivery("a"), delivered=True)
    settled.add(task("b", key="hi"), delivery("b"), delivered=False)
    assert [s.task_id for s in settled.for_key("hi")] == ["task_b", "task_a"]


def test_answers_expire_after_the_retry_window() -> None:
    settled = SettledAnswers(ttl_s=0)
    settled.add(task("a"), delivery("a"), delivered=True)
    assert settled.get("task_a") is None and len(settled) == 0
    assert settled.for_key("key-a") == []


def test_the_oldest_answers_go_past_the_capacity() -> None:
    settled = SettledAnswers(ttl_s=600, capacity=2)
    for name in "abc":
        settled.add(task(name, key="same"), delivery(name), delivered=False)
    assert settled.get("task_a") is None
    assert [s.task_id for s in settled.for_key("same")] == ["task_c", "task_b"]
