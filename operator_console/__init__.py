"""The operator console: static HTML, JS and CSS with no build step, served by woz."""

from pathlib import Path

STATIC_ROOT = Path(__file__).parent / "static"

__all__ = ["STATIC_ROOT"]
