"""Recruitment platforms: who arrives from a study's link, and how their session ends.

`arrival` reads the platform's URL parameters (`[recruitment]`): the
participant's external id, which becomes their pseudonym and is never stored,
the platform's session id, kept with the page session and its consent, and the
arm a survey names (honoured only where the study's assignment is `fixed`).

`completion` gives the code for an outcome (a code per arm where the study
sets one) and the address to send the participant back to, with `{code}` and
the link's own parameters filled in. Only the parameters the platform defines
are filled in, and each is URL-encoded, so a link cannot add anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from woz.models.recruitment import PLACEHOLDER
from woz.models.research import Outcome
from woz.models.study import Study

ARM_PARAM = "arm"
MAX_ID_CHARS = 256
MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"  # MTurk's assignmentId before the HIT is accepted


@dataclass(frozen=True)
class Arrival:
    """What a participant's link says: each part None when absent or unusable."""

    external_id: str | None
    platform_session: str | None
    platform_study: str | None
    arm: str | None
    preview: bool = False


def _param(query: Mapping[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    value = query.get(name, "").strip()
    return value if 0 < len(value) <= MAX_ID_CHARS else None


def arrival(study: Study, query: Mapping[str, str]) -> Arrival:
    """The ids in a participant page's URL, per the study's `[recruitment]`.

    An arm is kept only if the study assigns arms as `fixed` and names it.
    MTurk's preview (`assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`) is no arrival:
    the worker has not accepted the HIT, and woz records nothing for a preview.
    """
    params = study.recruitment.params
    session = _param(query, params.session)
    if study.recruitment.platform == "mturk" and session == MTURK_PREVIEW:
        return Arrival(None, None, None, None, preview=True)
    arm = _param(query, ARM_PARAM)
    if study.conditions.assignment != "fixed" or arm is None or study.arm(arm) is None:
        arm = None
    return Arrival(
        external_id=_param(query, params.participant),
        platform_session=session,
        platform_study=_param(query, params.study),
        arm=arm,
    )


# What each platform substitutes into the study link it sends participants to.
LINK_PLACEHOLDERS = {
    "prolific": (
        "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
    ),
    "sona": "?id=%SURVEY_CODE%",
    "mturk": "",  # MTurk adds workerId, assignmentId and hitId itself
}


def study_link(study: Study, page: str) -> str:
    """The link to give the platform: the participant page with the platform's own
    placeholders for its ids (`generic`: the parameter to fill in)."""
    recruitment = study.recruitment
    if recruitment.id_param or recruitment.platform not in LINK_PLACEHOLDERS:
        return f"{page}?{recruitment.params.participant}=<participant id>"
    return page + LINK_PLACEHOLDERS[recruitment.platform]


@dataclass(frozen=True)
class Completion:
    """The end of a participant's session: the code to show, and where to go next."""

    outcome: Outcome
    code: str
    return_url: str


def completion_code(study: Study, outcome: Outcome, arm: str | None) -> str:
    """The study's code for `outcome` ("" if it sets none); an arm's own completion code
    where `[recruitment.arm_codes]` has one."""
    recruitment = study.recruitment
    if outcome == "screened_out":
        return recruitment.screened_out_code
    if outcome == "timed_out":
        return recruitment.timed_out_code
    return recruitment.arm_codes.get(arm or "", "") or recruitment.completion_code


def return_url(study: Study, code: str, query: Mapping[str, str]) -> str:
    """The study's return address with `{code}` and the link's parameters filled in
    ("" if it has none, or a placeholder cannot be filled: no broken redirects)."""
    template = study.recruitment.return_template
    if not template:
        return ""
    values = {"code": code} | {
        name: value
        for name in study.recruitment.url_params()
        if (value := _param(query, name)) is not None
    }
    missing = [name for name in PLACEHOLDER.findall(template) if not values.get(name)]
    if missing:
        return ""
    return PLACEHOLDER.sub(lambda match: quote(values[match.group(1)], safe=""), template)
