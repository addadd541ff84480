"""The operator hub: websocket protocol v1, presence and heartbeats."""

from woz.operators.hub import setup_operators

__all__ = ["setup_operators"]
