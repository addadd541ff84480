"""Questionnaires in the study file, the answers the server accepts, and instrument scores."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from woz.models.questionnaire import Questionnaire
from woz.models.study import Study
from woz.research.instruments import instrument_items, score
from woz.research.questionnaires import AnswersRefused, check_answers, describe, scores_of
from woz.study.summary import summary

BASE: dict[str, Any] = {"study": {"id": "s", "title": "T"}, "personas": [{"id": "p"}]}

OWN = {
    "id": "pre",
    "when": "before",
    "items": [
        {"id": "age", "kind": "short_text", "text": "Age?"},
        {
            "id": "mood",
            "kind": "likert",
            "text": "Mood?",
            "points": ["Bad", "So-so", "Good"],
            "required": True,
        },
        {"id": "pets", "kind": "multiple", "text": "Pets?", "options": ["cat", "dog", "fish"]},
        {
            "id": "os",
            "kind": "single",
            "text": "OS?",
            "options": [{"value": "lin", "label": "Linux"}, {"value": "mac", "label": "macOS"}],
        },
        {"id": "warm", "kind": "slider", "text": "Warmth?", "min_label": "Cold"},
        {"id": "story", "kind": "long_text", "text": "Tell us", "max_length": 10},
    ],
}


def study(*questionnaires: dict[str, Any], arms: list[str] = ()) -> Study:  # type: ignore[assignment]
    return Study.model_validate(
        BASE | {"questionnaires": list(questionnaires), "arms": [{"id": a} for a in arms]}
    )


def test_a_study_names_instruments_and_its_own_items() -> None:
    """An instrument's id defaults to its name; options written as strings are values too."""
    loaded = study(OWN, {"when": "after", "instrument": "sus", "arms": ["b"]}, arms=["a", "b"])
    own, sus = loaded.questionnaires
    assert sus.id == "sus" and sus.shown_to("b") and not sus.shown_to("a")
    assert own.shown_to(None) and own.items[2].options[0].label == "cat"
    assert own.items[0].max_length == 200  # short text's default bound


@pytest.mark.parametrize(
    ("questionnaire", "complaint"),
    [
        ({"when": "after"}, "needs `items`"),
        ({"when": "after", "instrument": "sus", "items": OWN["items"]}, "not both"),
        ({"when": "during", "instrument": "sus"}, "when"),
        ({"when": "after", "instrument": "nasa_tlx"}, "instrument"),
        ({"when": "after", "items": OWN["items"]}, "needs an `id`"),
        (
            {"id": "q", "when": "after", "items": [{"id": "x", "kind": "likert", "text": "?"}]},
            "points",
        ),
        ({"when": "after", "instrument": "sus", "arms": ["zz"]}, r"not in \[\[arms\]\]"),
    ],
)
def test_a_bad_questionnaire_is_refused_with_what_is_wrong(
    questionnaire: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        study(questionnaire, arms=["a"])


def test_two_questionnaires_with_one_id_are_refused() -> None:
    with pytest.raises(ValidationError, match="used twice"):
        study({"when": "after", "instrument": "sus"}, {"when": "before", "instrument": "sus"})


def test_answers_are_checked_against_the_items() -> None:
    items = Questionnaire.model_validate(OWN).items
    kept = check_answers(
        items, {"mood": 3, "pets": ["fish", "cat"], "os": "mac", "warm": 0, "age": " 41 "}
    )
    assert kept == {"mood": 3, "pets": ["cat", "fish"], "os": "mac", "warm": 0, "age": "41"}
    assert check_answers(items, {"mood": 1, "age": "", "pets": []}) == {"mood": 1}


@pytest.mark.parametrize(
    ("given", "item"),
    [
        ({}, "mood"),
        ({"mood": 4}, "mood"),
        ({"mood": True}, "mood"),
        ({"mood": "2"}, "mood"),
        ({"mood": 1, "os": "win"}, "os"),
        ({"mood": 1, "pets": ["cat", "cat"]}, "pets"),
        ({"mood": 1, "pets": "cat"}, "pets"),
        ({"mood": 1, "warm": 101}, "warm"),
        ({"mood": 1, "warm": 5.5}, "warm"),
        ({"mood": 1, "story": "x" * 11}, "story"),
        ({"mood": 1, "shoe": "42"}, "shoe"),
    ],
)
def test_a_wrong_answer_is_refused_naming_its_item(given: dict[str, object], item: str) -> None:
    items = Questionnaire.model_validate(OWN).items
    with pytest.raises(AnswersRefused) as refused:
        check_answers(items, given)
    assert refused.value.item == item


def test_sus_is_scored_from_0_to_100() -> None:
    best = {f"sus_{n}": 5 if n % 2 else 1 for n in range(1, 11)}
    worst = {f"sus_{n}": 1 if n % 2 else 5 for n in range(1, 11)}
    neutral = {f"sus_{n}": 3 for n in range(1, 11)}
    assert score("sus", best) == {"score": 100.0}
    assert score("sus", worst) == {"score": 0.0}
    assert score("sus", neutral) == {"score": 50.0}
    assert score("sus", {"sus_1": 5}) == {"score": None}  # incomplete: no biased score


def test_trust_in_automation_reverses_the_distrust_items() -> None:
    answers: dict[str, int | str | list[str]] = {
        f"tia_{n}": 1 if n <= 5 else 7 for n in range(1, 13)
    }
    assert score("trust_in_automation", answers) == {"score": 7.0, "distrust": 1.0, "trust": 7.0}
    assert len(instrument_items("trust_in_automation")) == 12


def test_the_manipulation_check_asks_who_wrote_and_how_sure() -> None:
    author, confidence = instrument_items("manipulation_check", "fr")
    assert [o.value for o in author.options] == ["human", "ai", "not_sure"]
    assert author.text.startswith("Selon vous") and confidence.kind == "slider"
    q = Questionnaire(when="after", instrument="manipulation_check")
    assert scores_of(q, {"author": "human", "confidence": 80}) == {
        "manipulation_check.believed_human": 1.0
    }
    assert scores_of(q, {"author": "not_sure"}) == {"manipulation_check.believed_human": None}


def test_the_page_gets_texts_and_items_only() -> None:
    shown = describe(Questionnaire(when="after", instrument="sus"), "fr")
    assert shown["title"] == "Utilisation du système"
    assert shown["items"][0]["points"][0] == "Pas du tout d'accord"
    assert set(shown["items"][0]) >= {"id", "kind", "text", "required", "points", "options"}


def test_woz_check_lists_the_questionnaires() -> None:
    loaded = study(OWN, {"when": "after", "instrument": "sus", "arms": ["b"]}, arms=["a", "b"])
    assert dict(summary(loaded))["questionnaires"] == "pre (before), sus (after, arms b)"
