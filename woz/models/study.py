"""The study file's schema (DESIGN 4.3).

Every table forbids unknown keys, so a typo is refused instead of silently
ignored. Secrets never live in a study file: keys are created with
`woz keys create` and the pseudonymisation secret is generated into the store.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from woz.models.questionnaire import Questionnaire, check_questionnaires
from woz.models.recruitment import EmbeddingSection, RecruitmentSection
from woz.models.voice import VoiceSection

PermittedUse = Literal[
    "in_study_analysis",
    "publication_excerpts",
    "internal_model_training",
    "public_dataset_release",
    "commercial_use",
]


def _default_uses() -> list[PermittedUse]:
    return ["in_study_analysis"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentSection(_Strict):
    text: str = ""
    version: str = "1"


class DebriefSection(_Strict):
    policy: Literal["none", "end_of_session", "end_of_study"] = "end_of_session"
    text: str = ""
    deadline_days: int = Field(default=14, ge=0)
    reconsent_required: bool = False


class StudySection(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    title: str
    description: str = ""
    deception: Literal["none", "partial", "concealed"] = "none"
    deception_justification: str = ""
    irb_protocol: str = ""
    consent_required: bool = False
    consent: ConsentSection = Field(default_factory=ConsentSection)
    debrief: DebriefSection = Field(default_factory=DebriefSection)
    data_license: str = "CC-BY-4.0"
    permitted_uses: list[PermittedUse] = Field(default_factory=_default_uses)

    @model_validator(mode="after")
    def _deception_needs_debrief_and_irb(self) -> StudySection:
        """Deception is permitted only with a debriefing plan and an ethics approval
        (APA 8.07, Belmont); a study that has neither does not start."""
        if self.deception == "none":
            return self
        missing = [
            name
            for name, value in (
                ("study.debrief.text", self.debrief.text),
                ("study.irb_protocol", self.irb_protocol),
            )
            if not value.strip()
        ]
        if self.debrief.policy == "none":
            missing.append("study.debrief.policy (not 'none')")
        if missing:
            raise ValueError(
                f"a deceptive study (deception = {self.deception!r}) needs "
                + " and ".join(missing)
                + ": deception is permitted only with a debriefing and an ethics approval"
            )
        return self


Mode = Literal["human", "assist", "model"]


class Upstream(_Strict):
    """A real model behind an OpenAI-compatible API, for drafts, control arms and fallback.

    The key is read from the environment variable named by `api_key_env` when
    the server starts: secrets never live in the study file.
    """

    id: str = Field(min_length=1, max_length=64)
    base_url: str = Field(pattern=r"^https?://")
    model: str = Field(min_length=1)
    api_key_env: str | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    max_tokens: int | None = Field(default=None, ge=1)


class Persona(_Strict):
    """A "model" the study exposes; apps name it in the request's `model` field."""

    id: str = Field(min_length=1, max_length=128)
    display_name: str = ""
    mode: Mode = "human"
    upstream: str | None = None
    live: bool = False
    presented_as: Literal["ai", "human"] = "ai"
    guide: str = ""


class RoutingSection(_Strict):
    answer_timeout_s: float = Field(default=300.0, gt=0)
    on_timeout: Literal["fallback", "error", "model"] = "error"
    fallback_upstream: str | None = None
    fallback_text: str = "Sorry, I can't answer that right now. Please try again."
    queue_limit: int = Field(default=1000, ge=1)
    reconnect_grace_s: float = Field(default=10.0, ge=0)
    retry_ttl_s: float = Field(default=600.0, ge=0)
    retry_after_s: int = Field(default=5, ge=1)
    max_in_flight_per_participant: int = Field(default=4, ge=1)


class PacingSection(_Strict):
    """How a finished answer is streamed. `tokens_per_second = 0` sends it at once."""

    tokens_per_second: float = Field(default=40.0, ge=0)
    first_token_delay_ms: int = Field(default=300, ge=0)


class Arm(_Strict):
    """One condition of an experiment: what a participant assigned to it gets.

    Unset fields keep the requested persona's own settings.
    """

    id: str = Field(min_length=1, max_length=64)
    mode: Mode | None = None
    upstream: str | None = None
    live: bool | None = None
    pacing: PacingSection | None = None


class ConditionsSection(_Strict):
    """How participants are assigned to arms; an assignment never changes."""

    assignment: Literal["random", "balanced", "fixed"] = "balanced"
    seed: int = 0
    personas: list[str] = Field(
        default_factory=list, description="requested personas under the experiment; empty: all"
    )
    reveal_to_operators: bool = False


class ModerationSection(_Strict):
    """How `POST /v1/moderations` is answered.

    `auto`: at once, by woz, with every category false and every score 0.0: nothing
    is judged and nothing is recorded. `human`: an operator ticks the categories that
    apply, recorded like any task under `persona` (by default the study's first).
    """

    mode: Literal["human", "auto"] = "auto"
    persona: str | None = None


class PassthroughSection(_Strict):
    """Endpoints a human cannot serve, passed through to a real model: `[[upstreams]]` ids."""

    embeddings: str | None = None


class ParticipantPageSection(_Strict):
    """What participants see of the study: the chat page (`/p/<study id>`) and its persona.

    `persona` defaults to the study's first. `title` and `description` are what the
    participant pages show as their title and subtitle, in place of the study's own
    `title` and `description`, which are the researchers' and may state the research
    question or the deception. The title defaults to the persona's display name.
    `locale`: the language of the page's own words (`woz/web/chat_page/static/locales/`,
    one file per language: en, fr).
    `voice`: participants may also talk (push-to-talk or hands-free) and hear the
    answers spoken, with captions (the Realtime API behind the page; `[voice]`).
    """

    persona: str | None = None
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=500)
    locale: str = "en"
    voice: bool = False

    @field_validator("locale")
    @classmethod
    def _a_locale_woz_has(cls, locale: str) -> str:
        if locale not in page_locales():
            raise ValueError(f"locale {locale!r} is not one of {', '.join(page_locales())}")
        return locale


def page_locales() -> list[str]:
    """The languages the participant page speaks: one JSON file each."""
    return sorted(path.stem for path in LOCALES.glob("*.json"))


LOCALES = Path(__file__).parents[1] / "web" / "chat_page" / "static" / "locales"

_NAMES_AUDIO = re.compile(r"\b(audio|voice|recording|recorded|record your speech)")


class Snippet(_Strict):
    key: str = ""
    label: str
    text: str


class PrivacySection(_Strict):
    """What is redacted from messages before an operator sees them (best-effort).

    The record keeps the redacted text unless `keep_raw` says otherwise.
    """

    redact: list[Literal["email", "phone", "payment_card", "iban", "ip_address"]] = Field(
        default_factory=list
    )
    keep_raw: bool = False


class LaborSection(_Strict):
    """What operators are paid: `pay_rate` per hour of paid time, or per task answered.

    The labor ledger turns either into an effective hourly pay over paid time
    (all time available plus all time handling tasks) and flags operators whose
    effective pay falls below `pay_floor`.
    """

    pay_rate: float = Field(default=0.0, ge=0)
    pay_unit: Literal["hour", "task"] = "hour"
    currency: str = "USD"
    pay_floor: float = Field(default=0.0, ge=0)
    # What operators agree to about the reuse of the text they write (ETHICS: an
    # export must not serve a purpose outside the operators' consent). A recorded
    # operator consent always limits exports; with `reuse_consent_required`, text
    # of an operator who recorded none is not exported at all.
    reuse_agreement: ConsentSection = Field(default_factory=ConsentSection)
    reuse_consent_required: bool = False

    @model_validator(mode="after")
    def _required_consent_needs_a_text(self) -> LaborSection:
        if self.reuse_consent_required and not self.reuse_agreement.text.strip():
            raise ValueError(
                "reuse_consent_required needs the text operators agree to: "
                'add [labor.reuse_agreement] text = "..."'
            )
        return self


class Study(_Strict):
    """A whole study file."""

    study: StudySection
    personas: list[Persona] = Field(min_length=1)
    routing: RoutingSection = Field(default_factory=RoutingSection)
    pacing: PacingSection = Field(default_factory=PacingSection)
    snippets: list[Snippet] = Field(default_factory=list)
    privacy: PrivacySection = Field(default_factory=PrivacySection)
    labor: LaborSection = Field(default_factory=LaborSection)
    upstreams: list[Upstream] = Field(default_factory=list)
    arms: list[Arm] = Field(default_factory=list)
    conditions: ConditionsSection = Field(default_factory=ConditionsSection)
    moderation: ModerationSection = Field(default_factory=ModerationSection)
    passthrough: PassthroughSection = Field(default_factory=PassthroughSection)
    participant_page: ParticipantPageSection = Field(default_factory=ParticipantPageSection)
    voice: VoiceSection = Field(default_factory=VoiceSection)
    recruitment: RecruitmentSection = Field(default_factory=RecruitmentSection)
    embedding: EmbeddingSection = Field(default_factory=EmbeddingSection)
    questionnaires: list[Questionnaire] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_persona_ids(self) -> Study:
        seen: set[str] = set()
        for persona in self.personas:
            if persona.id in seen:
                raise ValueError(f"persona id {persona.id!r} is used twice")
            seen.add(persona.id)
        return self

    @model_validator(mode="after")
    def _kept_audio_is_in_the_consent(self) -> Study:
        # Participants must be told their voice is recorded before it is kept.
        text = self.study.consent.text.lower()
        if self.voice.keep_audio and text.strip() and not _NAMES_AUDIO.search(text):
            raise ValueError(
                "voice.keep_audio keeps recordings of participants' voices, so "
                "study.consent.text must say so (name the audio recording)"
            )
        return self

    @model_validator(mode="after")
    def _references_exist(self) -> Study:
        upstreams = {u.id for u in self.upstreams}
        for i, persona in enumerate(self.personas):
            _needs_upstream(f"personas[{i}]", persona.mode, persona.upstream, upstreams)
        for i, arm in enumerate(self.arms):
            if arm.upstream is not None or arm.mode in ("assist", "model"):
                _needs_upstream(f"arms[{i}]", arm.mode or "model", arm.upstream, upstreams)
        if len({a.id for a in self.arms}) != len(self.arms):
            raise ValueError("arm ids must be unique")
        if self.routing.on_timeout == "model":
            _needs_upstream("routing", "model", self.routing.fallback_upstream, upstreams)
        named = [("conditions.personas", name) for name in self.conditions.personas]
        if self.moderation.persona is not None:
            named.append(("moderation.persona", self.moderation.persona))
        if self.participant_page.persona is not None:
            named.append(("participant_page.persona", self.participant_page.persona))
        for where, name in named:
            if self.persona(name) is None:
                raise ValueError(f"{where} names {name!r}, which is not a persona")
        embeddings = self.passthrough.embeddings
        if embeddings is not None and embeddings not in upstreams:
            raise ValueError(
                f"passthrough: upstream {embeddings!r} is not defined in [[upstreams]]"
            )
        for coded in self.recruitment.arm_codes:
            if self.arm(coded) is None:
                raise ValueError(f"recruitment.arm_codes names {coded!r}, which is not an arm")
        check_questionnaires(self.questionnaires, {arm.id for arm in self.arms})
        spoken = self.voice.upstream
        if spoken is not None and spoken not in upstreams:
            raise ValueError(f"voice.upstream: upstream {spoken!r} is not defined in [[upstreams]]")
        return self

    def upstream(self, upstream_id: str) -> Upstream | None:
        return next((u for u in self.upstreams if u.id == upstream_id), None)

    def arm(self, arm_id: str) -> Arm | None:
        return next((a for a in self.arms if a.id == arm_id), None)

    @property
    def id(self) -> str:
        return self.study.id

    @property
    def title(self) -> str:
        return self.study.title

    def persona(self, persona_id: str) -> Persona | None:
        """The persona with this id; a dict lookup, as every request makes one or more."""
        return self._personas_by_id.get(persona_id)

    @cached_property
    def _personas_by_id(self) -> dict[str, Persona]:
        # A cached property lives in the instance `__dict__`: a plain attribute
        # read, where a pydantic private attribute costs microseconds per access.
        return {p.id: p for p in self.personas}

    @property
    def page_persona(self) -> Persona:
        """The persona the participant chat page talks to."""
        chosen = self.participant_page.persona
        return (self.persona(chosen) if chosen else None) or self.personas[0]

    @property
    def page_title(self) -> str:
        """The title participants see: `[participant_page] title`, else the page persona's
        name. Never the study's `title`, which is written for researchers."""
        persona = self.page_persona
        return self.participant_page.title.strip() or persona.display_name or persona.id

    @property
    def page_description(self) -> str:
        """The subtitle participants see (`[participant_page] description`), often empty."""
        return self.participant_page.description.strip()


def _needs_upstream(where: str, mode: str, upstream: str | None, known: set[str]) -> None:
    if mode in ("assist", "model") and upstream is None:
        raise ValueError(f'{where}: mode {mode!r} needs an upstream (add `upstream = "<id>"`)')
    if upstream is not None and upstream not in known:
        raise ValueError(f"{where}: upstream {upstream!r} is not defined in [[upstreams]]")
