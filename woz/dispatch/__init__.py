"""Routing tasks to operators behind one `Dispatcher` protocol (in-memory first)."""

from woz.dispatch.base import Delivery, Dispatcher, OperatorLink, QueueStatus, Rejected, TaskHandle
from woz.dispatch.memory import MemoryDispatcher

__all__ = [
    "Delivery",
    "Dispatcher",
    "MemoryDispatcher",
    "OperatorLink",
    "QueueStatus",
    "Rejected",
    "TaskHandle",
]
