"""`[recruitment]` and `[embedding]`: ids read from a platform's link, codes, return addresses,
and the study-file mistakes refused with the field at fault."""

from __future__ import annotations

import pytest

from woz.research.recruitment import arrival, completion_code, return_url, study_link
from woz.study import StudyFileError, parse_study
from woz.study.summary import summary, warnings

BASE = """\
[study]
id = "s1"
title = "T"

[[personas]]
id = "p"

[[arms]]
id = "a"

[[arms]]
id = "b"
"""


def study(extra: str = "", assignment: str = "balanced"):  # type: ignore[no-untyped-def]
    return parse_study(BASE + f'\n[conditions]\nassignment = "{assignment}"\n' + extra)


@pytest.mark.parametrize(
    "platform, query, expected",
    [
        (
            "prolific",
            {"PROLIFIC_PID": "pp", "STUDY_ID": "st", "SESSION_ID": "se"},
            ("pp", "se", "st"),
        ),
        ("mturk", {"workerId": "w", "assignmentId": "as", "hitId": "h"}, ("w", "as", "h")),
        ("sona", {"id": "12345", "other": "x"}, ("12345", None, None)),
        ("generic", {"pid": "R_abc"}, ("R_abc", None, None)),
        ("prolific", {"PROLIFIC_PID": " ", "SESSION_ID": "x" * 300}, (None, None, None)),
    ],
)
def test_each_platform_names_its_parameters(
    platform: str, query: dict[str, str], expected: tuple[str | None, ...]
) -> None:
    """The participant's id, the platform's session and study ids; blank or oversized is none."""
    found = arrival(study(f'[recruitment]\nplatform = "{platform}"\n'), query)
    assert (found.external_id, found.platform_session, found.platform_study) == expected


def test_id_param_renames_and_mturk_preview_records_nothing() -> None:
    renamed = study('[recruitment]\nplatform = "generic"\nid_param = "ResponseID"\n')
    assert arrival(renamed, {"ResponseID": "R_1", "pid": "no"}).external_id == "R_1"
    mturk = study('[recruitment]\nplatform = "mturk"\n')
    preview = arrival(mturk, {"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": "h"})
    assert preview.preview and preview.external_id is None


def test_the_arm_is_honoured_only_under_fixed_assignment() -> None:
    assert arrival(study(assignment="fixed"), {"pid": "x", "arm": "b"}).arm == "b"
    assert arrival(study(assignment="fixed"), {"pid": "x", "arm": "zz"}).arm is None
    assert arrival(study(), {"pid": "x", "arm": "b"}).arm is None


def test_codes_per_outcome_and_arm() -> None:
    codes = study(
        '[recruitment]\ncompletion_code = "DONE"\nscreened_out_code = "OUT"\n'
        'timed_out_code = "LATE"\n[recruitment.arm_codes]\nb = "DONE_B"\n'
    )
    assert completion_code(codes, "completed", "a") == "DONE"
    assert completion_code(codes, "completed", "b") == "DONE_B"
    assert completion_code(codes, "completed", None) == "DONE"
    assert completion_code(codes, "screened_out", "b") == "OUT"
    assert completion_code(codes, "timed_out", "b") == "LATE"


def test_return_addresses_fill_the_code_and_the_links_own_parameters() -> None:
    prolific = study('[recruitment]\nplatform = "prolific"\n')
    assert return_url(prolific, "C1", {}) == ("https://app.prolific.com/submissions/complete?cc=C1")
    assert return_url(prolific, "", {}) == ""  # no code, no redirect
    sona = study(
        '[recruitment]\nplatform = "sona"\n'
        'return_url = "https://x.sona-systems.com/webstudy_credit.aspx?'
        'experiment_id=1&credit_token=t&survey_code={id}"\n'
    )
    assert return_url(sona, "", {"id": "4&x=<y>"}).endswith("survey_code=4%26x%3D%3Cy%3E")
    assert return_url(sona, "", {}) == ""
    assert return_url(study('[recruitment]\nplatform = "mturk"\n'), "C", {}) == ""


@pytest.mark.parametrize(
    "extra, problem",
    [
        (
            '[recruitment]\ncompletion_code = "X"\nscreened_out_code = "X"\n',
            "completion_code and screened_out_code are the same code",
        ),
        ('[recruitment.arm_codes]\nc = "X"\n', "arm_codes names 'c', which is not an arm"),
        ('[recruitment]\nreturn_url = "javascript:alert(1)"\n', "return_url is a web address"),
        (
            '[recruitment]\nreturn_url = "https://x.org/?u={user}"\n',
            "{user} is neither {code} nor a parameter of the link",
        ),
        ('[recruitment]\nplatform = "qualtrics"\n', "recruitment.platform"),
        ('[recruitment]\ncompletion_code = "a b"\n', "a code is 1 to 64 letters"),
        ('[embedding]\nallow = ["https://x.org; script-src *"]\n', "is not an origin"),
        ('[embedding]\nallow = ["https://x.org/path"]\n', "is not an origin"),
        ('[participant_page]\nlocale = "xx"\n', "locale 'xx' is not one of en, fr"),
    ],
)
def test_mistakes_are_refused_naming_the_field(extra: str, problem: str) -> None:
    with pytest.raises(StudyFileError) as caught:
        study(extra)
    assert problem in str(caught.value)


def test_arm_codes_may_share_the_completion_code() -> None:
    """Arms may reuse the completion code (only outcomes must differ)."""
    same = study('[recruitment]\ncompletion_code = "D"\n[recruitment.arm_codes]\na = "D"\n')
    assert completion_code(same, "completed", "a") == "D"


def test_woz_check_warns_of_no_code_and_pay_below_prolifics_minimum() -> None:
    """A Prolific study with no completion code, or paying under Prolific's minimum for
    the time it expects, is valid but warned about."""
    low = study('[recruitment]\nplatform = "prolific"\npay = 1.0\nexpected_minutes = 15\n')
    found = warnings(low)
    assert any("no completion_code" in line for line in found)
    assert any(
        "4.00 GBP/hour for 15 min, below Prolific's minimum of 6.00" in line for line in found
    )
    fair = study(
        '[recruitment]\nplatform = "prolific"\ncompletion_code = "C"\npay = 2.5\n'
        "expected_minutes = 15\n"
    )
    assert not [line for line in warnings(fair) if "recruitment" in line]
    assert dict(summary(fair))["recruit"].startswith("prolific (id from ?PROLIFIC_PID=)")


def test_the_study_link_carries_each_platforms_placeholders() -> None:
    """What `woz serve` prints for the platform's study link."""
    page = "https://woz.example.org/p/s1"
    prolific = study('[recruitment]\nplatform = "prolific"\n')
    assert study_link(prolific, page) == (
        page
        + "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    )
    assert (
        study_link(study('[recruitment]\nplatform = "sona"\n'), page) == page + "?id=%SURVEY_CODE%"
    )
    assert study_link(study('[recruitment]\nplatform = "mturk"\n'), page) == page
    assert study_link(study(), page) == page + "?pid=<participant id>"
