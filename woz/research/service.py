"""The research side of a running server, opened with the app's other resources.

`keep_definition` keeps the study definition the server runs with (auditing it
when it is new, so an export can name exactly which rules applied); `build_research`
builds the participant service, the admission step, the presence log and the
operators' reuse consents, with no I/O, so that a reload can swap them in at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from woz.media.files import MediaFolder
from woz.models.study import Study
from woz.research.admission import ResearchAdmission
from woz.research.operators import OperatorRecords
from woz.research.participants import Participants
from woz.research.presence import PresenceLog
from woz.research.privacy import Recogniser, Redactor
from woz.store.base import Store


@dataclass(frozen=True)
class Research:
    participants: Participants
    admission: ResearchAdmission
    presence: PresenceLog
    operators: OperatorRecords


def definition_json(study: Study) -> str:
    """The study's validated definition, as stored and hashed."""
    return study.model_dump_json()


async def keep_definition(store: Store, study: Study) -> None:
    """Store the definition served, auditing it when it is new."""
    definition = definition_json(study)
    if await store.save_study_definition(study.id, definition):
        digest = hashlib.sha256(definition.encode()).hexdigest()
        await store.append_audit(
            study.id, "server", "study.served", None, {"definition_sha256": digest}
        )


def build_research(
    store: Store,
    study: Study,
    secret: bytes,
    operator_pseudonym: Callable[[str], str],
    recognisers: list[Recogniser] | None = None,
    media: MediaFolder | None = None,
) -> Research:
    """The research services for `study` (no I/O: a reload swaps them in at once)."""
    participants = Participants(store, study, secret, media)
    redactor = Redactor.for_kinds(study.privacy.redact, recognisers or [])
    return Research(
        participants=participants,
        admission=ResearchAdmission(store, participants, redactor),
        presence=PresenceLog(store, study.id, operator_pseudonym),
        operators=OperatorRecords(store, study, secret),
    )
