"""Study files: the example loads; mistakes are refused with field, line and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from woz.cli.serve import demo_study_path
from woz.study import StudyFileError, load_study, parse_study

MINIMAL = """\
[study]
id = "s1"
title = "T"

[[personas]]
id = "p"
"""


def test_example_study_is_valid() -> None:
    """The shipped SuggEst study loads with its personas and snippets."""
    study = load_study(demo_study_path())
    assert study.id == "suggest-concierge"
    assert [p.id for p in study.personas] == ["suggest-1", "suggest-live"]
    assert study.snippets and study.routing.on_timeout == "fallback"


def test_typo_in_a_key_names_field_and_line() -> None:
    """A misspelt key is refused, not ignored, with the line it is on."""
    text = MINIMAL + "\n[routing]\nanswer_timout_s = 30\n"
    with pytest.raises(StudyFileError) as caught:
        parse_study(text, source="study.toml")
    assert str(caught.value) == (
        "study.toml:9: unknown field 'routing.answer_timout_s' "
        "(check its spelling; see the study file docs)"
    )


def test_bad_value_in_array_table_points_at_its_line() -> None:
    """A wrong enum value in the second persona names persona index and line."""
    text = MINIMAL + '\n[[personas]]\nid = "q"\nmode = "robot"\n'
    with pytest.raises(StudyFileError) as caught:
        parse_study(text, source="study.toml")
    message = str(caught.value)
    assert message.startswith("study.toml:10: field 'personas[1].mode'")
    assert "'human', 'assist' or 'model'" in message and "'robot'" in message


def test_missing_required_field() -> None:
    with pytest.raises(StudyFileError, match=r"missing required field 'study\.title'"):
        parse_study('[study]\nid = "x"\n[[personas]]\nid = "p"\n')


def test_unknown_table_is_named() -> None:
    with pytest.raises(StudyFileError, match=r"<study>:8: unknown field 'routingg'"):
        parse_study(MINIMAL + "\n[routingg]\nx = 1\n")


def test_toml_syntax_error_has_line() -> None:
    with pytest.raises(StudyFileError, match=r"not valid TOML: .*line 2"):
        parse_study('[study]\nid = "x\n')


def test_duplicate_persona_ids_are_refused() -> None:
    with pytest.raises(StudyFileError, match="persona id 'p' is used twice"):
        parse_study(MINIMAL + '\n[[personas]]\nid = "p"\n')


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError, match="cannot read the study file"):
        load_study(tmp_path / "missing.toml")


def test_required_operator_consent_needs_an_agreement_text() -> None:
    """Operators cannot be required to consent to a reuse agreement that does not exist."""
    with pytest.raises(StudyFileError) as caught:
        parse_study(MINIMAL + "\n[labor]\nreuse_consent_required = true\n", source="s.toml")
    assert str(caught.value) == (
        "s.toml:8: labor: reuse_consent_required needs the text operators agree to: "
        'add [labor.reuse_agreement] text = "..."'
    )
    agreed = '\n[labor]\nreuse_consent_required = true\n[labor.reuse_agreement]\ntext = "Yes."\n'
    assert parse_study(MINIMAL + agreed).labor.reuse_agreement.version == "1"
