"""Answers kept for retries: found by request key, gone after their time or past capacity."""

from __future__ import annotations

from woz.dispatch.base import Delivery
from woz.dispatch.settled import SettledAnswers
from woz.models.task import Answer


def delivery(text: str) -> Delivery:
    return Delivery(Answer(content=text), "rec_" + text)


def test_an_answer_is_found_by_its_request_key() -> None:
    settled = SettledAnswers(ttl_s=600)
    settled.add("key-a", "task_a", delivery("a"), delivered=True)
    found = settled.get("key-a")
    assert found is not None and found.task_id == "task_a" and found.delivered
    assert found.delivery.answer.content == "a"
    assert settled.get("key-b") is None


def test_answers_expire_after_the_retry_window() -> None:
    settled = SettledAnswers(ttl_s=0)
    settled.add("key-a", "task_a", delivery("a"), delivered=True)
    assert settled.get("key-a") is None and len(settled) == 0


def test_the_oldest_answers_go_past_the_capacity() -> None:
    settled = SettledAnswers(ttl_s=600, capacity=2)
    for name in "abc":
        settled.add(f"key-{name}", f"task_{name}", delivery(name), delivered=False)
    assert settled.get("key-a") is None
    assert [settled.get(k) is not None for k in ("key-b", "key-c")] == [True, True]
