"""The rules of what a reload may change in a served study (`woz.study.reload`)."""

from __future__ import annotations

from collections import Counter

from woz.study import parse_study
from woz.study.reload import RunningWork, refusals

BASE = """
[study]
id = "s"
title = "T"
deception = "partial"
deception_justification = "Knowing would change what is measured."
irb_protocol = "IRB-1"

[study.debrief]
text = "A person answered you."

[study.consent]
text = "You chat with a prototype."

[[personas]]
id = "a"

[[personas]]
id = "b"

[[arms]]
id = "human"
mode = "human"

[[arms]]
id = "model"
mode = "model"
upstream = "u"

[[upstreams]]
id = "u"
base_url = "http://127.0.0.1:9/v1"
model = "m"

[routing]
answer_timeout_s = 60
"""

IDLE = RunningWork(Counter(), operators_connected=0, participants=0, participants_with_arms=0)


def work(**changes: object) -> RunningWork:
    fields = {
        "in_flight_by_persona": Counter(),
        "operators_connected": 0,
        "participants": 0,
        "participants_with_arms": 0,
    } | changes
    return RunningWork(**fields)  # type: ignore[arg-type]


def edited(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


def test_an_idle_new_study_may_change_anything_but_its_id() -> None:
    """With nothing running and no participant, every edit applies; the id never changes."""
    old = parse_study(BASE)
    new = parse_study(
        edited('title = "T"', 'title = "New"')
        .replace("answer_timeout_s = 60", "answer_timeout_s = 90")
        .replace("You chat with a prototype.", "New text.")
        .replace('[[personas]]\nid = "b"\n', "")
    )
    assert refusals(old, new, IDLE) == []
    moved = parse_study(edited('id = "s"', 'id = "t"'))
    assert refusals(old, moved, IDLE) == [
        "the study id changed from 's' to 't'; a study keeps its id (its keys, records and"
        " pseudonyms are filed under it): put a new study in a new file"
    ]


def test_a_model_with_work_in_flight_keeps_existing_and_its_mode() -> None:
    old = parse_study(BASE)
    busy = work(in_flight_by_persona=Counter({"b": 2}))
    removed = parse_study(edited('[[personas]]\nid = "b"\n', ""))
    assert refusals(old, removed, busy) == [
        "model 'b' was removed, but 2 task(s) for it are in flight; remove it once they are"
        " answered"
    ]
    remoded = parse_study(
        edited(
            '[[personas]]\nid = "b"\n', '[[personas]]\nid = "b"\nmode = "assist"\nupstream = "u"\n'
        )
    )
    assert refusals(old, remoded, busy) == [
        "model 'b' changed mode from human to assist, but 2 task(s) for it are in flight"
    ]
    # Another model's work does not hold this one back.
    assert refusals(old, removed, work(in_flight_by_persona=Counter({"a": 1}))) == []


def test_routing_changes_only_when_the_study_is_idle() -> None:
    old = parse_study(BASE)
    new = parse_study(edited("answer_timeout_s = 60", "answer_timeout_s = 90"))
    [reason] = refusals(old, new, work(operators_connected=1))
    assert reason.startswith("[routing] changed while 1 operator(s) are connected;")
    [reason] = refusals(
        old, new, work(in_flight_by_persona=Counter({"a": 1}), operators_connected=2)
    )
    assert reason.startswith("[routing] changed while 1 task(s) are in flight and 2 operator(s)")


def test_an_experiment_under_way_keeps_its_design() -> None:
    old = parse_study(BASE)
    new = parse_study(BASE + '\n[conditions]\nassignment = "random"\n')
    assert refusals(old, new, work(participants=3)) == []  # nobody has an arm yet
    [reason] = refusals(old, new, work(participants=3, participants_with_arms=3))
    assert reason.startswith("assignment ([[arms]], [conditions]) changed, but 3 participant(s)")


def test_what_participants_agreed_to_stays_once_there_are_participants() -> None:
    old = parse_study(BASE)
    some = work(participants=1)
    for before, after, what in (
        ("You chat with a prototype.", "Other text.", "consent text and version"),
        ('deception = "partial"', 'deception = "concealed"', "deception design"),
        ('title = "T"', 'title = "T"\nconsent_required = true', "consent_required"),
        ('title = "T"', 'title = "T"\ndata_license = "CC0-1.0"', "data license"),
    ):
        [reason] = refusals(old, parse_study(edited(before, after)), some)
        assert reason == (
            f"the {what} changed, but the study has 1 participant(s) who agreed to the current"
            " one; start a new study (a new id) instead"
        )
    # What they were not asked to agree to may change.
    assert refusals(old, parse_study(edited('title = "T"', 'title = "Renamed"')), some) == []


def test_an_upstream_in_use_stays_as_it_is() -> None:
    """Tasks in flight drafted or answered by an upstream keep it, unchanged."""
    old = parse_study(BASE)
    busy = work(in_flight_by_upstream=Counter({"u": 1}))
    moved = parse_study(edited('model = "m"', 'model = "m2"'))
    assert refusals(old, moved, busy) == ["upstream 'u' changed, but 1 task(s) in flight use it"]
    assert refusals(old, moved, IDLE) == []
