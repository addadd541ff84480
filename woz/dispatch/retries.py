"""Which task a retry belongs to.

Only a real retry may join a task in flight or be given an answer already
given: a request the caller marked as a retry (`Task.may_join`, decided by
`woz.api.core.intake`). Every other request is a task of its own, even with the same
request key: two people using one app who both type "Hi" each get a human's
answer, and each exchange gets its record.

Several tasks may share a request key (identical first attempts of people the
app does not name). A retry goes to the one whose own request is known to have
gone without its answer, since that is most likely the request being retried:
a task in flight that nobody waits for any more (its client timed out), else an
answer whose delivery failed; failing that, to the oldest task in flight, else
to the latest answer.

An answer given again is logged (with its record id, never its text) and
counted on its record (`Record.replays`). A retry that joins a task in flight
is not a new task, and does not count against its participant's in-flight limit.
"""

from __future__ import annotations

from woz.dispatch.docs import SettledDoc, TaskDoc
from woz.errors import invalid_request
from woz.models.task import Task


def pick(in_flight: list[TaskDoc], answers: list[SettledDoc]) -> TaskDoc | SettledDoc | None:
    """The rule of the module's docstring; `in_flight` oldest first, `answers` latest first."""
    for doc in in_flight:
        if doc.waiting == 0:
            return doc
    for answer in answers:
        if not answer.delivered:
            return answer
    if in_flight:
        return in_flight[0]
    return answers[0] if answers else None


def check_same_request(asked: str, retry: Task) -> None:
    """Refuse a request that reuses an `Idempotency-Key` for something else.

    `asked` is the digest of the request that first came with the key. A retry
    keyed by its body always matches; one keyed by an idempotency key may not.
    """
    if retry.request_digest != asked:
        raise invalid_request(
            "This Idempotency-Key was already used for a different request (another body,"
            " path or conversation). Use a new key for a new request.",
            code="idempotency_key_reused",
        )
