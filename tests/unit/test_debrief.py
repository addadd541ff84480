"""The debrief the chat page shows: who wrote the answers, why, and when it is due."""

from __future__ import annotations

import pytest

from tests.unit.test_study_ethics import DECEPTIVE
from tests.unit.test_study_file import MINIMAL
from woz.models.study import Mode, Study
from woz.research.conditions import Conditions
from woz.research.debrief import (
    REASON_PREFIX,
    WHO_WROTE,
    debrief_content,
    debrief_due_at_session_end,
)
from woz.study import StudyFileError, parse_study

JUSTIFIED = DECEPTIVE.replace(
    'irb_protocol = "IRB-2026-17"',
    'irb_protocol = "IRB-2026-17"\ndeception_justification = "It changes behaviour."',
)
ARMS = """
[[upstreams]]
id = "oai"
base_url = "https://api.example/v1"
model = "m"

[[arms]]
id = "people"

[[arms]]
id = "machine"
mode = "model"
upstream = "oai"
"""


class ArmStore:
    """Just enough of a store for `Conditions.mode_for`: one participant's arm."""

    def __init__(self, arms: dict[str, str]) -> None:
        self.arms = arms

    async def arm_of(self, study_id: str, participant: str) -> str | None:
        return self.arms.get(participant)


def conditions(study: Study, arms: dict[str, str]) -> Conditions:
    return Conditions(study, ArmStore(arms))  # type: ignore[arg-type]


def test_without_deception_only_the_studys_text() -> None:
    """A non-deceptive study's debrief is its own text, with nothing added."""
    study = parse_study(MINIMAL.replace('title = "T"', 'title = "T"\n[study.debrief]\ntext = "Hi"'))
    content = debrief_content(study, "human")
    assert (content.disclosure, content.reason, content.shown()) == (None, None, "Hi")


@pytest.mark.parametrize("mode", ["human", "assist", "model"])
def test_deception_says_who_wrote_and_why(mode: Mode) -> None:
    """Under deception the debrief opens with who wrote the answers, then the reason."""
    content = debrief_content(parse_study(JUSTIFIED), mode)
    assert content.disclosure == WHO_WROTE[mode]
    assert content.reason == REASON_PREFIX + "It changes behaviour."
    assert content.shown() == "\n\n".join(
        [WHO_WROTE[mode], content.reason, "A person wrote the answers."]
    )


def test_no_justification_no_reason_paragraph() -> None:
    """Without a `deception_justification` the study's own text must carry the why."""
    content = debrief_content(parse_study(DECEPTIVE), "human")
    assert content.disclosure and content.reason is None


def test_debrief_is_due_at_session_end_only_under_that_policy() -> None:
    """`end_of_session` with deception or a text is due; `end_of_study` and `none` are not."""
    assert debrief_due_at_session_end(parse_study(DECEPTIVE))
    later = DECEPTIVE.replace("[study.debrief]", '[study.debrief]\npolicy = "end_of_study"')
    assert not debrief_due_at_session_end(parse_study(later))
    assert not debrief_due_at_session_end(parse_study(MINIMAL))


async def test_mode_follows_the_participants_arm() -> None:
    """A participant in a model arm is told a model answered; others a person."""
    study = parse_study(DECEPTIVE + ARMS)
    arms = conditions(study, {"p_a": "machine", "p_b": "people"})
    assert await arms.mode_for("p", "p_a") == "model"
    assert await arms.mode_for("p", "p_b") == "human"
    assert await arms.mode_for("p", "p_unassigned") == "human"


def test_page_persona_defaults_to_the_first_and_must_exist() -> None:
    """`[participant_page] persona` picks the page's persona; an unknown one is refused."""
    two = MINIMAL + '\n[[personas]]\nid = "q"\n'
    assert parse_study(two).page_persona.id == "p"
    assert parse_study(two + '\n[participant_page]\npersona = "q"\n').page_persona.id == "q"
    with pytest.raises(StudyFileError) as caught:
        parse_study(two + '\n[participant_page]\npersona = "ghost"\n')
    assert "participant_page.persona names 'ghost'" in str(caught.value)
