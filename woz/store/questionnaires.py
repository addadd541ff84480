"""The questionnaire protocol: participants' answers to questionnaires, their feedback,
and when they read each answer.

Contract shared by every backend:
- Answers are kept once per (study, participant, questionnaire): `save_answers`
  returns False, keeping the first, when that questionnaire was already submitted.
- Feedback is kept once per (study, record): giving it again replaces it.
- A read is kept once per (study, record): the first time the answer was shown.
- All three are content of the participant: `erase_participant` deletes them in the
  same transaction as the records, and from then on both saves drop whatever
  that participant still sends (returning False), as `commit_record` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from woz.models.questionnaire import Feedback, QuestionnaireAnswers


class QuestionnaireStore(Protocol):
    async def save_answers(self, answers: QuestionnaireAnswers) -> bool:
        """Keep the answers; False if already submitted or the participant withdrew."""

    async def list_answers(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[QuestionnaireAnswers]:
        """The study's answers (or one participant's) in order of submission."""

    async def save_feedback(self, feedback: Feedback) -> bool:
        """Keep (or replace) the feedback on its record; False if the participant withdrew."""

    async def list_feedback(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[Feedback]:
        """The study's feedback (or one participant's) in the order given (a replaced
        one at its new time)."""

    async def mark_read(
        self, study_id: str, record_id: str, participant: str, at: datetime
    ) -> bool:
        """Note that the participant's page showed them the answer, the first time only;
        False if already noted or the participant withdrew."""

    async def list_reads(
        self, study_id: str, participant: str | None = None
    ) -> dict[str, datetime]:
        """When each answer was first read, by record id."""
