"""Consent: what a participant agreed to (the text's hash and version), how, and for what.

A consent is recorded by the participant page, by the `/woz/` API, or by
`client_sdk`. It names the version of the study's consent text and the scopes
(permitted uses) granted, a subset of the study's. A later consent (say, a
re-consent after debriefing that grants fewer uses) supersedes an earlier one.

Consent is opt-in (GDPR Recital 32: no pre-ticked boxes) and each optional use
is agreed to separately. One use is not optional: taking part in a study means
its team analyses the conversation (`in_study_analysis`, when the study permits
it), so a consent without it, or with no use at all, is refused rather than
recorded as a consent to take part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from woz.models.research import ConsentRecord
from woz.models.study import PermittedUse, Study

REQUIRED_USE: PermittedUse = "in_study_analysis"


class ConsentRefused(Exception):
    """A consent that cannot be recorded as asked; the message says why."""


class ScopesRefused(ConsentRefused):
    """A consent whose uses do not amount to taking part; `code` says which rule."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ConsentGrant(BaseModel):
    """A consent as an app or page submits it.

    `version` and `text_sha256` default to the study's current consent text; if
    given they must match it, so an app cannot record consent to a text the
    participant never saw. `scopes` default to every use the study permits.
    """

    model_config = ConfigDict(extra="forbid")

    version: str | None = None
    text_sha256: str | None = None
    method: str = Field(default="api", min_length=1, max_length=64)
    scopes: list[PermittedUse] | None = None


def consent_text_sha256(study: Study) -> str:
    """SHA-256 of the study's consent text (surrounding whitespace ignored)."""
    return text_sha256(study.study.consent.text)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def check_grant(study: Study, grant: ConsentGrant) -> tuple[str, list[PermittedUse]]:
    """The version and scopes to record for `grant`, or `ConsentRefused`."""
    consent = study.study.consent
    version = grant.version or consent.version
    if version != consent.version:
        raise ConsentRefused(
            f"consent version {version!r} is not the study's current consent text "
            f"(version {consent.version!r}); show the participant the current text"
        )
    if grant.text_sha256 is not None and grant.text_sha256 != consent_text_sha256(study):
        raise ConsentRefused(
            "text_sha256 does not match the study's consent text; "
            "show the participant the current text"
        )
    scopes = granted_scopes(study, grant.scopes)
    check_taking_part(study, scopes)
    return version, scopes


def required_uses(study: Study) -> list[PermittedUse]:
    """The uses a participant must agree to in order to take part (the others are
    optional): the team's analysis of the conversation, if the study permits it."""
    return [REQUIRED_USE] if REQUIRED_USE in study.study.permitted_uses else []


def check_taking_part(study: Study, scopes: Sequence[PermittedUse]) -> None:
    """`ScopesRefused` unless `scopes` name at least one use and every required one."""
    if not scopes:
        raise ScopesRefused("no_scopes", "a consent names at least one use; scopes is empty")
    missing = [use for use in required_uses(study) if use not in scopes]
    if missing:
        raise ScopesRefused(
            "required_use",
            f"scopes must include {missing}: taking part in this study means agreeing to "
            "the team's analysis of the conversation; the other uses are optional",
        )


def granted_scopes(study: Study, scopes: Sequence[PermittedUse] | None) -> list[PermittedUse]:
    """The uses a consent grants: `scopes` (None: every use the study permits), or
    `ConsentRefused` naming those the study does not permit."""
    permitted = list(study.study.permitted_uses)
    granted = permitted if scopes is None else list(dict.fromkeys(scopes))
    outside = [scope for scope in granted if scope not in permitted]
    if outside:
        raise ConsentRefused(
            f"scopes {outside} are not permitted uses of this study (permitted: {permitted})"
        )
    return granted


def consent_in_force(consents: Sequence[ConsentRecord], at: datetime) -> ConsentRecord | None:
    """The latest consent given at or before `at`."""
    given = [c for c in consents if c.granted_at <= at]
    return max(given, key=lambda c: c.granted_at) if given else None


def latest_consent(consents: Sequence[ConsentRecord]) -> ConsentRecord | None:
    return max(consents, key=lambda c: c.granted_at) if consents else None
