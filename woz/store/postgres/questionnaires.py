"""Questionnaire answers and in-chat feedback, in PostgreSQL (see `woz.store.questionnaires`).

Each save holds the participant's advisory lock (shared) while it checks for a
tombstone and writes, like a record's commit, so an answer sent while the
participant withdraws is either erased or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from woz.models.questionnaire import Feedback, QuestionnaireAnswers
from woz.store.postgres.database import PostgresDatabase
from woz.store.postgres.records import withdrawn
from woz.store.rows import answers_of, feedback_of, of_study, stamp


class PgQuestionnaireTables(PostgresDatabase):
    async def save_answers(self, answers: QuestionnaireAnswers) -> bool:
        async with self._transaction() as db:
            if await withdrawn(db, answers.study_id, answers.participant):
                return False
            cursor = await db.execute(
                "INSERT INTO questionnaire_answers (study_id, participant, questionnaire,"
                " moment, arm, answers, submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (
                    answers.study_id,
                    answers.participant,
                    answers.questionnaire,
                    answers.when,
                    answers.arm,
                    json.dumps(answers.answers, ensure_ascii=False),
                    answers.submitted_at,
                ),
            )
            return cursor.rowcount == 1

    async def list_answers(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[QuestionnaireAnswers]:
        sql, params = of_study(
            "SELECT * FROM questionnaire_answers",
            study_id,
            participant,
            mark="%s",
            order="submitted_at, questionnaire",
        )
        rows = await self._rows(sql, params)
        return [answers_of(row) for row in rows]

    async def save_feedback(self, feedback: Feedback) -> bool:
        async with self._transaction() as db:
            if await withdrawn(db, feedback.study_id, feedback.participant):
                return False
            await db.execute(
                "INSERT INTO feedback (study_id, record_id, participant, rating, comment, at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (study_id, record_id) DO UPDATE"
                " SET rating = excluded.rating, comment = excluded.comment, at = excluded.at",
                (
                    feedback.study_id,
                    feedback.record_id,
                    feedback.participant,
                    feedback.rating,
                    feedback.comment,
                    feedback.at,
                ),
            )
            return True

    async def list_feedback(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[Feedback]:
        sql, params = of_study(
            "SELECT * FROM feedback", study_id, participant, mark="%s", order="at, record_id"
        )
        rows = await self._rows(sql, params)
        return [feedback_of(row) for row in rows]

    async def mark_read(
        self, study_id: str, record_id: str, participant: str, at: datetime
    ) -> bool:
        async with self._transaction() as db:
            if await withdrawn(db, study_id, participant):
                return False
            cursor = await db.execute(
                "INSERT INTO answer_reads (study_id, record_id, participant, read_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (study_id, record_id, participant, at),
            )
            return cursor.rowcount == 1

    async def list_reads(
        self, study_id: str, participant: str | None = None
    ) -> dict[str, datetime]:
        sql, params = of_study(
            "SELECT record_id, read_at FROM answer_reads", study_id, participant, mark="%s"
        )
        return {row["record_id"]: stamp(row["read_at"]) for row in await self._rows(sql, params)}
