"""Routing tasks to operators: a process-local `Front` over a shared `Backend`
(in memory by default, in Redis for several processes)."""

from woz.dispatch.backend import Backend, Delivery, QueueStatus
from woz.dispatch.base import Dispatcher, OperatorLink, Rejected, TaskHandle
from woz.dispatch.front import Front
from woz.dispatch.kv import KeyValue
from woz.dispatch.memory_kv import MemoryKeyValue

__all__ = [
    "Backend",
    "Delivery",
    "Dispatcher",
    "Front",
    "KeyValue",
    "MemoryKeyValue",
    "OperatorLink",
    "QueueStatus",
    "Rejected",
    "TaskHandle",
]
