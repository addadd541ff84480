"""Which ready operator gets a task.

A conversation stays with the operator who already holds it (so one person
answers a whole thread); otherwise the least loaded operator relative to their
capacity gets it, ties going to whoever has waited longest since their last task.
An operator who released a task is asked again only when no one else can take it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Protocol, TypeVar


class OperatorLoad(Protocol):
    """What the policy needs to know of one operator."""

    @property
    def key_id(self) -> str: ...

    @property
    def capacity(self) -> int: ...

    @property
    def held(self) -> Collection[str]: ...

    @property
    def last_assigned(self) -> float: ...


Op = TypeVar("Op", bound=OperatorLoad)


def free_slots(op: OperatorLoad) -> int:
    return op.capacity - len(op.held)


def choose_operator(
    candidates: Iterable[Op],
    conversation_owner: str | None,
    declined_by: Collection[str],
) -> Op | None:
    """The operator to assign to, or None when no one has a free slot."""
    available = [op for op in candidates if free_slots(op) > 0]
    if not available:
        return None
    for op in available:
        if op.key_id == conversation_owner and op.key_id not in declined_by:
            return op
    willing = [op for op in available if op.key_id not in declined_by] or available
    return min(willing, key=lambda op: (len(op.held) / op.capacity, op.last_assigned))
