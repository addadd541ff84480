"""Questionnaire answers and in-chat feedback, in SQLite (see `woz.store.questionnaires`).

Each save checks for the participant's tombstone inside its own write, so an
answer sent while the participant withdraws is either erased or dropped.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from woz.models.questionnaire import Feedback, QuestionnaireAnswers
from woz.store.rows import answers_of, feedback_of, of_study, stamp
from woz.store.sqlite.database import SQLiteDatabase
from woz.store.sqlite.participants import is_withdrawn


class QuestionnaireTables(SQLiteDatabase):
    async def save_answers(self, answers: QuestionnaireAnswers) -> bool:
        saved = False

        def insert(db: sqlite3.Connection) -> None:
            nonlocal saved
            if is_withdrawn(db, answers.study_id, answers.participant):
                return
            saved = (
                db.execute(
                    "INSERT OR IGNORE INTO questionnaire_answers (study_id, participant,"
                    " questionnaire, moment, arm, answers, submitted_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        answers.study_id,
                        answers.participant,
                        answers.questionnaire,
                        answers.when,
                        answers.arm,
                        json.dumps(answers.answers, ensure_ascii=False),
                        answers.submitted_at.isoformat(),
                    ),
                ).rowcount
                == 1
            )

        await self._write(insert)
        return saved

    async def list_answers(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[QuestionnaireAnswers]:
        sql, params = of_study(
            "SELECT * FROM questionnaire_answers",
            study_id,
            participant,
            mark="?",
            order="submitted_at, questionnaire",
        )
        rows = await self._read(sql, params)
        return [answers_of(row) for row in rows]

    async def save_feedback(self, feedback: Feedback) -> bool:
        saved = False

        def upsert(db: sqlite3.Connection) -> None:
            nonlocal saved
            if is_withdrawn(db, feedback.study_id, feedback.participant):
                return
            db.execute(
                "INSERT INTO feedback (study_id, record_id, participant, rating, comment, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (study_id, record_id) DO UPDATE"
                " SET rating = excluded.rating, comment = excluded.comment, at = excluded.at",
                (
                    feedback.study_id,
                    feedback.record_id,
                    feedback.participant,
                    feedback.rating,
                    feedback.comment,
                    feedback.at.isoformat(),
                ),
            )
            saved = True

        await self._write(upsert)
        return saved

    async def list_feedback(
        self, study_id: str, participant: str | None = None
    ) -> Sequence[Feedback]:
        sql, params = of_study(
            "SELECT * FROM feedback", study_id, participant, mark="?", order="at, record_id"
        )
        rows = await self._read(sql, params)
        return [feedback_of(row) for row in rows]

    async def mark_read(
        self, study_id: str, record_id: str, participant: str, at: datetime
    ) -> bool:
        saved = False

        def insert(db: sqlite3.Connection) -> None:
            nonlocal saved
            if is_withdrawn(db, study_id, participant):
                return
            saved = (
                db.execute(
                    "INSERT OR IGNORE INTO answer_reads (study_id, record_id, participant, read_at)"
                    " VALUES (?, ?, ?, ?)",
                    (study_id, record_id, participant, at.isoformat()),
                ).rowcount
                == 1
            )

        await self._write(insert)
        return saved

    async def list_reads(
        self, study_id: str, participant: str | None = None
    ) -> dict[str, datetime]:
        sql, params = of_study(
            "SELECT record_id, read_at FROM answer_reads", study_id, participant, mark="?"
        )
        return {row["record_id"]: stamp(row["read_at"]) for row in await self._read(sql, params)}
