"""The research admission step: run on each new task before any operator can see it.

In order:
1. The app's raw participant id is dropped from the stored request body
   (`user`, `safety_identifier`, `metadata.user_id`): woz keeps only the pseudonym.
2. A withdrawn participant is refused (`participant_withdrawn`); a study that
   requires consent refuses a task without a consent to its current text
   (`consent_required`). Both are `WozError`s, so the app gets them in its own
   API dialect.
3. A participant seen for the first time is registered, and the consent in
   force is noted on the task (it becomes the record's `consent_id`).
4. The study's redaction rules replace personal data in the messages, the
   draft and the request body; the record keeps the raw messages only if the
   study says `keep_raw`. A task holding more than `REDACT_INLINE_CHARS` of
   text is redacted in a thread (`woz.off_loop`), so the server keeps serving
   everyone else meanwhile; smaller ones, the usual case, inline.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from woz.errors import ErrorKind, WozError
from woz.models.pseudonyms import tombstone_of
from woz.models.research import ConsentRecord
from woz.models.study import Study
from woz.models.task import Message, Task, ToolCall
from woz.off_loop import OffLoop
from woz.research.consent import latest_consent
from woz.research.participants import Participants
from woz.research.privacy import RedactionSession, Redactor
from woz.store.base import Store

log = structlog.get_logger(__name__)

RAW_ID_FIELDS = ("user", "safety_identifier")
# Redacting this much text takes a few milliseconds; more is done in a thread.
REDACT_INLINE_CHARS = 64 * 1024
REDACTION_THREADS = 2


class ResearchAdmission:
    """An `Admission` (see `woz.dispatch.base`): call it with a task."""

    def __init__(self, store: Store, participants: Participants, redactor: Redactor) -> None:
        self._store = store
        self._participants = participants
        self._study: Study = participants.study
        self._redactor = redactor
        self._registered: set[str] = set()
        self._off_loop = OffLoop(REDACTION_THREADS)

    async def __call__(self, task: Task) -> Task:
        task.request = _without_raw_ids(task.request)
        if task.participant is not None:
            await self._check_participant(task)
        elif self._study.study.consent_required:
            raise _consent_required(
                "This study requires consent: identify the participant (X-Woz-Participant) "
                "and record their consent first (consent_required)."
            )
        if self._redactor.recognisers:
            characters = _text_chars(task)
            if characters > REDACT_INLINE_CHARS:
                log.info("redaction.in_thread", task_id=task.id, characters=characters)
                task = await self._off_loop.run(self._redact, task)
            else:
                task = self._redact(task)
        return task

    async def may_see(self, participant: str | None) -> bool:
        """Whether an operator may see or hear `participant` now (before any task of
        theirs exists: a voice session heard live): the checks of a task's admission."""
        if participant is None:
            return not self._study.study.consent_required
        try:
            await self._consent(participant)
        except WozError:
            return False
        return True

    async def _consent(self, participant: str) -> ConsentRecord | None:
        """The participant's consent in force; raises if they withdrew, or if the study
        requires a consent to its current text and they gave none."""
        study_id = self._study.id
        subject = tombstone_of(participant)
        # Read every time, not cached: `woz participants withdraw` may run in another process.
        if await self._store.tombstone(study_id, subject) is not None:
            raise WozError(
                ErrorKind.PERMISSION,
                "This participant has withdrawn from the study; woz records nothing more "
                "for them (participant_withdrawn).",
                code="participant_withdrawn",
            )
        consent = latest_consent(await self._store.list_consents(study_id, subject))
        if self._study.study.consent_required:
            current = self._study.study.consent.version
            if consent is None:
                raise _consent_required(
                    "This study requires the participant's consent before their first "
                    "request (consent_required): record it with "
                    "POST /woz/participants/{id}/consent."
                )
            if consent.version != current:
                raise _consent_required(
                    f"The participant consented to version {consent.version!r} of the consent "
                    f"text; the study's is now {current!r}: ask again (consent_required)."
                )
        return consent

    async def _check_participant(self, task: Task) -> None:
        assert task.participant is not None
        study_id = self._study.id
        consent = await self._consent(task.participant)
        task.consent_id = consent.id if consent else None
        if task.participant not in self._registered:
            await self._store.register_participant(study_id, task.participant, task.received_at)
            if len(self._registered) < 100_000:
                self._registered.add(task.participant)

    def _redact(self, task: Task) -> Task:
        session = self._redactor.session()
        messages = [_redact_message(session, m) for m in task.messages]
        update: dict[str, Any] = {
            "messages": messages,
            "draft": session.redact(task.draft) if task.draft else task.draft,
            "request": _redact_json(session, task.request),
        }
        update["redactions"] = dict(session.counts)
        if self._study.privacy.keep_raw and session.counts:
            update["raw_messages"] = task.messages
        return task.model_copy(update=update)


def _consent_required(message: str) -> WozError:
    return WozError(ErrorKind.PERMISSION, message, code="consent_required")


def _without_raw_ids(request: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in request.items() if k not in RAW_ID_FIELDS}
    metadata = cleaned.get("metadata")
    if isinstance(metadata, dict) and "user_id" in metadata:
        cleaned["metadata"] = {k: v for k, v in metadata.items() if k != "user_id"}
    return cleaned


def _text_chars(task: Task) -> int:
    """How much text redaction would read in `task`."""
    return (
        sum(len(part.text or "") for message in task.messages for part in message.content)
        + sum(len(call.arguments) for message in task.messages for call in message.tool_calls)
        + len(task.draft or "")
        + _json_chars(task.request)
    )


def _json_chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_json_chars(item) for item in value)
    if isinstance(value, dict):
        return sum(_json_chars(item) for item in value.values())
    return 0


def _redact_message(session: RedactionSession, message: Message) -> Message:
    parts = [
        part.model_copy(update={"text": session.redact(part.text)}) if part.text else part
        for part in message.content
    ]
    calls = [
        ToolCall(id=call.id, name=call.name, arguments=_redact_arguments(session, call.arguments))
        for call in message.tool_calls
    ]
    return message.model_copy(update={"content": parts, "tool_calls": calls})


def _redact_arguments(session: RedactionSession, arguments: str) -> str:
    """Tool-call arguments are JSON: redact inside its strings so it stays valid JSON."""
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return session.redact(arguments)
    redacted = _redact_json(session, parsed)
    return arguments if redacted == parsed else json.dumps(redacted)


def _redact_json(session: RedactionSession, value: Any) -> Any:
    if isinstance(value, str):
        return session.redact(value)
    if isinstance(value, list):
        return [_redact_json(session, item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(session, item) for key, item in value.items()}
    return value
