"""Task ids by request key: several tasks may share a key (identical requests)."""

from __future__ import annotations


class KeyedTasks:
    """Task ids by request key, each key's in the order they were added."""

    def __init__(self) -> None:
        # A dict per key serves as an ordered set: adding and removing stay O(1)
        # however many identical requests share a key.
        self._ids: dict[str, dict[str, None]] = {}

    def add(self, request_key: str, task_id: str) -> None:
        self._ids.setdefault(request_key, {})[task_id] = None

    def discard(self, request_key: str, task_id: str) -> None:
        ids = self._ids.get(request_key)
        if ids is None:
            return
        ids.pop(task_id, None)
        if not ids:
            del self._ids[request_key]

    def ids(self, request_key: str) -> list[str]:
        """The key's task ids, oldest first."""
        return list(self._ids.get(request_key, ()))
