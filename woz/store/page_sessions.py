"""The page-session protocol: participants' ways through the participant page.

Contract shared by every backend:
- One session per (study, subject). `open_page_session` inserts the session given
  unless one exists, atomically, and returns the stored one: two first visits at
  once make one session.
- `save_page_session` overwrites the mutable fields of the stored session (the
  keys and `started_at` never change).
- A withdrawal (`erase_participant`) sets `participant` to None and keeps the rest,
  so the completion code stays payable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from woz.models.research import PageSession

PAGE_SESSION_FIELDS = (
    "participant",
    "platform",
    "platform_session",
    "platform_study",
    "consent_id",
    "arm",
    "chat_started_at",
    "chat_ended_at",
    "ended_by",
    "finished_at",
    "outcome",
    "code",
)
"""The columns `save_page_session` writes."""


class PageSessionStore(Protocol):
    async def open_page_session(self, session: PageSession) -> PageSession:
        """The stored session of `session`'s subject, made from `session` if none."""

    async def get_page_session(self, study_id: str, subject: str) -> PageSession | None: ...

    async def save_page_session(self, session: PageSession) -> None:
        """Overwrite the stored session's mutable fields (`PAGE_SESSION_FIELDS`)."""

    async def list_page_sessions(self, study_id: str) -> Sequence[PageSession]:
        """The study's sessions in order of first visit."""
