"""Questionnaires and in-chat feedback: what each participant is asked, and what they said.

One service (`Questionnaires`) for every door, so answers are checked against
the study's items, stored under the participant's pseudonym and arm, and
audited the same way whoever submits them. Withdrawal deletes them with the
rest of the participant's data (`Store.erase_participant`).

The server checks every answer, whatever the page enforced: a required item
left out, a Likert point or option that is not one of the item's, text over its
length, a slider outside 0-100, or an item the questionnaire does not have is
refused with the item's id (`AnswersRefused`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from woz.models.pseudonyms import tombstone_of
from woz.models.questionnaire import (
    Answer,
    Feedback,
    Item,
    Questionnaire,
    QuestionnaireAnswers,
    When,
)
from woz.models.study import Study
from woz.research.instruments import TITLES, instrument_items, score
from woz.store.base import Store


class AnswersRefused(Exception):
    """An answer the questionnaire does not accept; `item` names the item (or is None)."""

    def __init__(self, message: str, item: str | None = None) -> None:
        super().__init__(message)
        self.item = item


class FeedbackRefused(Exception):
    """Feedback on an answer that is not the participant's to rate."""


def items_of(questionnaire: Questionnaire, locale: str = "en") -> list[Item]:
    """The questionnaire's items: its own, or its instrument's in `locale`."""
    if questionnaire.instrument is not None:
        return instrument_items(questionnaire.instrument, locale)
    return questionnaire.items


def title_of(questionnaire: Questionnaire, locale: str = "en") -> str:
    if questionnaire.title or questionnaire.instrument is None:
        return questionnaire.title
    texts = TITLES[questionnaire.instrument]
    return texts.get(locale) or texts["en"]


def check_answer(item: Item, value: object) -> Answer:
    """`value` as stored for `item`, or `AnswersRefused` naming the item."""

    def refuse(expected: str) -> AnswersRefused:
        return AnswersRefused(f"item {item.id!r} expects {expected}", item.id)

    if item.kind == "likert":
        if type(value) is not int or not 1 <= value <= len(item.points):
            raise refuse(f"a point from 1 to {len(item.points)}")
        return value
    if item.kind == "slider":
        if type(value) is not int or not 0 <= value <= 100:
            raise refuse("an integer from 0 to 100")
        return value
    values = [o.value for o in item.options]
    if item.kind == "single":
        if value not in values:
            raise refuse("one of " + ", ".join(values))
        assert isinstance(value, str)
        return value
    if item.kind == "multiple":
        if not isinstance(value, list) or any(v not in values for v in value):
            raise refuse("a list of some of " + ", ".join(values))
        if len(set(value)) != len(value):
            raise refuse("each option at most once")
        return [v for v in values if v in value]  # in the questionnaire's order
    if not isinstance(value, str):
        raise refuse("text")
    if len(value) > item.max_length:
        raise refuse(f"text of at most {item.max_length} characters")
    return value.strip()


def _is_empty(value: object) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def check_answers(items: Sequence[Item], given: Mapping[str, object]) -> dict[str, Answer]:
    """The answers to keep: every required item answered, every answer valid."""
    known = {item.id for item in items}
    unknown = sorted(set(given) - known)
    if unknown:
        raise AnswersRefused(f"no item {unknown[0]!r} in this questionnaire", unknown[0])
    kept: dict[str, Answer] = {}
    for item in items:
        value = given.get(item.id)
        if _is_empty(value):
            if item.required:
                raise AnswersRefused(f"item {item.id!r} is required", item.id)
            continue
        kept[item.id] = check_answer(item, value)
    return kept


def scores_of(questionnaire: Questionnaire, answers: Mapping[str, Answer]) -> dict[str, Any]:
    """Computed scores, by column name (`sus.score`, ...); none for custom items."""
    if questionnaire.instrument is None:
        return {}
    return {
        f"{questionnaire.id}.{name}": value
        for name, value in score(questionnaire.instrument, answers).items()
    }


def describe(questionnaire: Questionnaire, locale: str = "en") -> dict[str, Any]:
    """The questionnaire as the page renders it (plain data, texts only)."""
    return {
        "id": questionnaire.id,
        "when": questionnaire.when,
        "title": title_of(questionnaire, locale),
        "intro": questionnaire.intro,
        "items": [
            item.model_dump(include={"id", "kind", "text", "required", "points", "options"})
            | {"min_label": item.min_label, "max_label": item.max_label}
            | ({"max_length": item.max_length} if item.max_length else {})
            for item in items_of(questionnaire, locale)
        ],
    }


class Questionnaires:
    """The questionnaires of one study, and the feedback on its answers."""

    def __init__(self, store: Store, study: Study) -> None:
        self._store = store
        self._study = study

    def for_arm(self, when: When | None, arm: str | None) -> list[Questionnaire]:
        """The study's questionnaires a participant in `arm` answers (at `when`, if given)."""
        return [
            q
            for q in self._study.questionnaires
            if (when is None or q.when == when) and q.shown_to(arm)
        ]

    def find(self, questionnaire_id: str) -> Questionnaire | None:
        return next((q for q in self._study.questionnaires if q.id == questionnaire_id), None)

    async def pending(self, participant: str, when: When, arm: str | None) -> list[Questionnaire]:
        """The questionnaires at `when` the participant has not submitted yet, in order."""
        done = {a.questionnaire for a in await self.answers_of(participant)}
        return [q for q in self.for_arm(when, arm) if q.id not in done]

    async def answers_of(self, participant: str) -> Sequence[QuestionnaireAnswers]:
        return await self._store.list_answers(self._study.id, participant)

    async def submit(
        self,
        participant: str,
        questionnaire: Questionnaire,
        arm: str | None,
        given: Mapping[str, object],
        actor: str,
    ) -> QuestionnaireAnswers | None:
        """Check and keep the answers; None if this questionnaire was already submitted
        (answers are given once) or the participant withdrew meanwhile."""
        if not questionnaire.shown_to(arm):
            raise AnswersRefused(f"questionnaire {questionnaire.id!r} is not for this arm")
        answers = QuestionnaireAnswers(
            study_id=self._study.id,
            participant=participant,
            questionnaire=questionnaire.id,
            when=questionnaire.when,
            arm=arm,
            answers=check_answers(items_of(questionnaire), given),
            submitted_at=datetime.now(UTC),
        )
        if not await self._store.save_answers(answers):
            return None
        await self._store.append_audit(
            self._study.id,
            actor,
            "questionnaire.submitted",
            tombstone_of(participant),
            {"questionnaire": questionnaire.id, "items": len(answers.answers)},
        )
        return answers

    async def _own_record(self, participant: str, record_id: str) -> None:
        record = await self._store.get_record(record_id)
        if record is None or record.study_id != self._study.id or record.participant != participant:
            raise FeedbackRefused("there is no answer with this id in your conversation")

    async def read(self, participant: str, record_id: str) -> None:
        """The participant's page showed them the answer (kept the first time; not audited:
        it is a timing, like a delivery, not a decision)."""
        await self._own_record(participant, record_id)
        await self._store.mark_read(self._study.id, record_id, participant, datetime.now(UTC))

    async def rate(
        self,
        participant: str,
        record_id: str,
        rating: Literal[-1, 1],
        comment: str,
        actor: str,
    ) -> Feedback:
        """Keep the participant's thumbs on one of their answers (replacing any before)."""
        await self._own_record(participant, record_id)
        feedback = Feedback(
            study_id=self._study.id,
            record_id=record_id,
            participant=participant,
            rating=rating,
            comment=comment.strip(),
            at=datetime.now(UTC),
        )
        if not await self._store.save_feedback(feedback):
            raise FeedbackRefused("you have withdrawn from this study; nothing more is recorded")
        await self._store.append_audit(
            self._study.id,
            actor,
            "feedback.given",
            tombstone_of(participant),
            {"record_id": record_id, "rating": rating, "comment": bool(feedback.comment)},
        )
        return feedback
