"""Keys (app, operator, researcher) and console sessions, as woz keeps them.

The token itself is shown once at creation; only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

KeyRole = Literal["app", "operator", "researcher"]


class KeyInfo(BaseModel):
    id: str
    study_id: str
    role: KeyRole
    name: str
    created_at: datetime
    revoked_at: datetime | None = None  # a revoked key opens nothing
