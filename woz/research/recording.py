"""Building records from task outcomes and committing them (the dispatcher's `Recorder`).

This is where a task becomes a record with its provenance and disclosure
fields, taken from the study: who produced the text, what the participant was
told (the persona's `presented_as`), the deception design, permitted uses and
license. Operators appear only as per-study pseudonyms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import structlog

from woz.models.pseudonyms import pseudonym
from woz.models.record import Record, RecordStatus, Timings
from woz.models.study import Study
from woz.models.task import Answer, ProducedBy, Task
from woz.store.base import Store

log = structlog.get_logger(__name__)


def record_id_for(task_id: str) -> str:
    """One record per task: the record id is derived from the task id."""
    return "rec_" + task_id.removeprefix("task_")


class StoreRecorder:
    """`Recorder` that writes to a `Store`; each method returns after the commit."""

    def __init__(self, store: Store, study: Study, secret: bytes) -> None:
        self._store = store
        # Replaced when the study file is reloaded: records made from then on say so.
        self.study = study
        self._secret = secret
        self._operator_pseudonyms: dict[str, str] = {}  # few operators, one HMAC each
        self._marks: set[asyncio.Task[None]] = set()  # delivery marks being written

    def operator_pseudonym(self, operator_key_id: str) -> str:
        known = self._operator_pseudonyms.get(operator_key_id)
        if known is None:
            known = pseudonym(self._secret, "op", operator_key_id)
            self._operator_pseudonyms[operator_key_id] = known
        return known

    def _record(
        self,
        task: Task,
        operator_key_id: str | None,
        answer: Answer | None,
        status: RecordStatus,
        timings: Timings,
        failure: str | None = None,
    ) -> Record:
        persona = self.study.persona(task.persona)
        produced_by = answer.produced_by if answer else None
        return Record(
            id=record_id_for(task.id),
            task_id=task.id,
            study_id=task.study_id,
            persona=task.persona,
            api=task.api,
            conversation_id=task.conversation_id,
            participant=task.participant,
            consent_id=task.consent_id,
            redactions=task.redactions,
            operator=self.operator_pseudonym(operator_key_id) if operator_key_id else None,
            # Redacted text unless the study keeps the raw (woz.research.admission).
            messages=task.raw_messages if task.raw_messages is not None else task.messages,
            tools=task.tools,
            tool_choice=task.tool_choice,
            response_format=task.response_format,
            answer=answer,
            produced_by=produced_by,
            # Model-written text is AI output and is marked so (EU AI Act Art. 50).
            synthetic=produced_by in (ProducedBy.MODEL, ProducedBy.HUMAN_EDITED_MODEL_DRAFT)
            or bool(answer and answer.model),
            draft=answer.draft if answer else None,
            draft_source=answer.draft_source if answer else None,
            edit_ratio=answer.edit_ratio if answer else None,
            model=answer.model if answer else None,
            mode=task.mode,
            arm=task.arm,
            # An operator's answer can carry the failure of the model draft it replaced.
            failure=failure or (answer.draft_failure if answer else None),
            presented_as=persona.presented_as if persona else "ai",
            deception=self.study.study.deception,
            permitted_uses=list(self.study.study.permitted_uses),
            license=self.study.study.data_license,
            timings=timings,
            status=status,
            request=task.request,
        )

    async def answered(
        self, task: Task, operator_key_id: str | None, answer: Answer, timings: Timings
    ) -> str:
        record = self._record(task, operator_key_id, answer, RecordStatus.ANSWERED, timings)
        await self._store.commit_record(record)
        return record.id

    async def unanswered(
        self,
        task: Task,
        operator_key_id: str | None,
        status: str,
        timings: Timings,
        *,
        failure: str | None = None,
    ) -> None:
        record = self._record(task, operator_key_id, None, RecordStatus(status), timings, failure)
        record.timings.answered_at = None
        await self._store.commit_record(record)

    def delivered(self, record_id: str, ok: bool, at: datetime) -> None:
        """Mark the record delivered (or its client gone) in the background; the answer
        itself is already durable, so nobody waits for this."""
        if ok:
            self._mark(self._store.note_record_status(record_id, RecordStatus.DELIVERED, at))
        else:
            self._mark(self._store.note_record_status(record_id, RecordStatus.CLIENT_GONE))

    def replayed(self, record_id: str) -> None:
        """Count a replay of the record's answer in the background; nobody waits for it."""
        self._mark(self._store.note_record_replayed(record_id))

    def _mark(self, write: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(write)
        self._marks.add(task)
        task.add_done_callback(self._marked)

    def _marked(self, task: asyncio.Task[None]) -> None:
        self._marks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("store.mark_failed", error=repr(task.exception()))

    async def close(self) -> None:
        """Wait for the delivery marks still being written (before the store closes)."""
        while self._marks:
            await asyncio.wait(list(self._marks))
