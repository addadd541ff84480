"""Operators' presence, consents and training, in PostgreSQL (see `woz.store.research`)."""

from __future__ import annotations

from collections.abc import Sequence

from woz.models.research import ConsentRecord, OperatorTraining, PresenceEvent
from woz.store.postgres.database import PostgresDatabase
from woz.store.postgres.participants import consent_params
from woz.store.rows import consent_of, presence_of, training_of


class PgOperatorTables(PostgresDatabase):
    async def add_presence(self, event: PresenceEvent) -> None:
        await self._execute(
            "INSERT INTO operator_presence (study_id, operator, state, at) VALUES (%s, %s, %s, %s)",
            (event.study_id, event.operator, event.state, event.at),
        )

    async def list_presence(self, study_id: str) -> Sequence[PresenceEvent]:
        rows = await self._rows(
            "SELECT * FROM operator_presence WHERE study_id = %s ORDER BY at, seq", (study_id,)
        )
        return [presence_of(row) for row in rows]

    async def add_operator_consent(self, consent: ConsentRecord) -> None:
        await self._execute(
            "INSERT INTO operator_consents (id, study_id, operator, version, text_sha256,"
            " method, scopes, granted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            consent_params(consent),
        )

    async def list_operator_consents(self, study_id: str) -> Sequence[ConsentRecord]:
        rows = await self._rows(
            "SELECT * FROM operator_consents WHERE study_id = %s ORDER BY granted_at, id",
            (study_id,),
        )
        return [consent_of(row, "operator") for row in rows]

    async def add_operator_training(self, training: OperatorTraining) -> None:
        await self._execute(
            "INSERT INTO operator_training (id, study_id, operator, trained_at, note)"
            " VALUES (%s, %s, %s, %s, %s)",
            (training.id, training.study_id, training.operator, training.trained_at, training.note),
        )

    async def list_operator_training(self, study_id: str) -> Sequence[OperatorTraining]:
        rows = await self._rows(
            "SELECT * FROM operator_training WHERE study_id = %s ORDER BY trained_at, id",
            (study_id,),
        )
        return [training_of(row) for row in rows]
