"""A deceptive study must bring its debrief and its ethics approval, or it does not start."""

from __future__ import annotations

import pytest

from woz.study import StudyFileError, parse_study

DECEPTIVE = """\
[study]
id = "s1"
title = "T"
deception = "concealed"
irb_protocol = "IRB-2026-17"

[study.debrief]
text = "A person wrote the answers."

[[personas]]
id = "p"
"""


def test_deceptive_study_with_debrief_and_irb_loads() -> None:
    study = parse_study(DECEPTIVE)
    assert study.study.deception == "concealed" and study.labor.pay_unit == "hour"


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        ('irb_protocol = "IRB-2026-17"\n', "study.irb_protocol"),
        ('text = "A person wrote the answers."\n', "study.debrief.text"),
    ],
)
def test_deceptive_study_missing_a_safeguard_is_refused(remove: str, named: str) -> None:
    """The refusal names the missing field and why it is needed."""
    with pytest.raises(StudyFileError) as caught:
        parse_study(DECEPTIVE.replace(remove, ""), source="study.toml")
    message = str(caught.value)
    assert message.startswith("study.toml:1: study: a deceptive study (deception = 'concealed')")
    assert named in message and "debriefing and an ethics approval" in message


def test_deceptive_study_cannot_switch_debriefing_off() -> None:
    with pytest.raises(StudyFileError, match=r"study\.debrief\.policy \(not 'none'\)"):
        parse_study(DECEPTIVE.replace("[study.debrief]\n", '[study.debrief]\npolicy = "none"\n'))


def test_non_deceptive_study_needs_neither() -> None:
    parse_study('[study]\nid = "s"\ntitle = "T"\n[[personas]]\nid = "p"\n')
