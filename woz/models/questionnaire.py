"""Questionnaires in the study file (`[[questionnaires]]`) and the answers woz keeps.

A questionnaire is shown at one moment of the participant page (`when`:
`before` the chat or `after` it), to every arm or to the `arms` listed. It is
either a standard instrument named by `instrument` (`sus`,
`manipulation_check`, `trust_in_automation`; see `woz.research.instruments`)
or the researcher's own `items`:

| kind | the participant | the answer stored |
|---|---|---|
| `likert` | picks one of the labelled `points` | the point's number, 1 to n |
| `single` | picks one of `options` | the option's value |
| `multiple` | ticks any of `options` | the values ticked, a list |
| `short_text`, `long_text` | types | the text (`max_length` characters at most) |
| `slider` | moves a slider from 0 to 100 | an integer 0-100 |

An option is a string (its own value and label) or `{value, label}`. Items are
optional unless `required = true`; the page enforces it and so does the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ItemKind = Literal["likert", "single", "multiple", "short_text", "long_text", "slider"]
InstrumentName = Literal["sus", "manipulation_check", "trust_in_automation"]
When = Literal["before", "after"]
Answer = int | str | list[str]

_ID = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Option(_Strict):
    value: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=500)


class Item(_Strict):
    """One question. `points` for Likert items; `options` for choices; `min_label` and
    `max_label` name the slider's ends; `max_length` bounds a text answer."""

    id: str = Field(pattern=_ID)
    kind: ItemKind
    text: str = Field(min_length=1, max_length=2000)
    required: bool = False
    points: list[str] = Field(default_factory=list, max_length=11)
    options: list[Option] = Field(default_factory=list, max_length=50)
    min_label: str = Field(default="", max_length=100)
    max_label: str = Field(default="", max_length=100)
    max_length: int = Field(default=0, ge=0, le=20000)

    @field_validator("options", mode="before")
    @classmethod
    def _strings_are_options(cls, options: object) -> object:
        if isinstance(options, list):
            return [{"value": o, "label": o} if isinstance(o, str) else o for o in options]
        return options

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Item:
        if self.kind == "likert" and len(self.points) < 2:
            raise ValueError(f"likert item {self.id!r} needs `points`: two labels or more")
        if self.kind in ("single", "multiple"):
            if len(self.options) < 2:
                raise ValueError(f"{self.kind} item {self.id!r} needs `options`: two or more")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"item {self.id!r}: option values must be unique")
        if self.kind != "likert" and self.points:
            raise ValueError(f"item {self.id!r}: `points` belong to likert items only")
        if self.kind not in ("single", "multiple") and self.options:
            raise ValueError(f"item {self.id!r}: `options` belong to single and multiple items")
        if not self.max_length and self.kind in ("short_text", "long_text"):
            self.max_length = 200 if self.kind == "short_text" else 5000
        return self


class Questionnaire(_Strict):
    """One page of questions, at `when`, for `arms` (empty: every participant)."""

    id: str = Field(default="", pattern=r"^$|" + _ID)
    when: When
    arms: list[str] = Field(default_factory=list)
    title: str = Field(default="", max_length=200)
    intro: str = Field(default="", max_length=2000)
    instrument: InstrumentName | None = None
    items: list[Item] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _instrument_or_items(self) -> Questionnaire:
        if self.instrument is not None and self.items:
            raise ValueError(
                f"questionnaire {self.id or self.instrument!r}: give `instrument` or `items`, "
                "not both (list another [[questionnaires]] for your own items)"
            )
        if self.instrument is None and not self.items:
            raise ValueError(
                "a questionnaire needs `items`, or `instrument` = "
                '"sus" | "manipulation_check" | "trust_in_automation"'
            )
        if not self.id:
            if self.instrument is None:
                raise ValueError("a questionnaire of your own items needs an `id`")
            self.id = self.instrument
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"questionnaire {self.id!r}: item ids must be unique")
        return self

    def shown_to(self, arm: str | None) -> bool:
        """Whether a participant in `arm` (None: no experiment) answers this questionnaire."""
        return not self.arms or arm in self.arms


def check_questionnaires(questionnaires: list[Questionnaire], arms: set[str]) -> None:
    """Study-level rules: unique ids, and `arms` naming arms the study defines."""
    seen: set[str] = set()
    for questionnaire in questionnaires:
        if questionnaire.id in seen:
            raise ValueError(f"questionnaire id {questionnaire.id!r} is used twice")
        seen.add(questionnaire.id)
        for arm in questionnaire.arms:
            if arm not in arms:
                raise ValueError(
                    f"questionnaire {questionnaire.id!r} names arm {arm!r}, "
                    "which is not in [[arms]]"
                )


class QuestionnaireAnswers(BaseModel):
    """One participant's submitted answers to one questionnaire (kept until withdrawal)."""

    study_id: str
    participant: str
    questionnaire: str
    when: When
    arm: str | None
    answers: dict[str, Answer]
    submitted_at: datetime


class Feedback(BaseModel):
    """A participant's thumbs up (+1) or down (-1) on one answer, with an optional comment;
    giving it again replaces it."""

    study_id: str
    record_id: str
    participant: str
    rating: Literal[-1, 1]
    comment: str = Field(default="", max_length=2000)
    at: datetime
