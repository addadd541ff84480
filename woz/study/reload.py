"""Which edits of a served study file a reload may apply, and why the others are refused.

A reload must never break work that is running or change, behind their backs, what
participants already agreed to. The rules (docs/studies.md states them for users):

- The study id is fixed: keys, records and pseudonyms are filed under it.
- A persona (model) may not be removed, nor its mode changed, while tasks for it are
  in flight: their clients are waiting for an answer of that kind. Nor may an upstream
  model be removed, or pointed elsewhere, while tasks in flight are drafted or answered
  by it.
- `[routing]` may change only while the study is idle (no task in flight, no operator
  connected): deadlines, leases and the queue limit are set when its dispatcher starts,
  so a new routing gets a new dispatcher.
- Assignment (`[[arms]]`, `[conditions]`) may not change once a participant has an arm:
  the allocation sequence and the arms' meaning are fixed for the whole study.
- What participants agreed to (consent required, consent text and version, deception
  design, debrief policy, permitted uses, data license) may not change once the study
  has participants: start a new study (a new id) instead.

Everything else (titles, guides, snippets, pacing, privacy, labor, participant page,
voice, upstreams, new personas) applies to new tasks at once; tasks in flight keep
what they were given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from woz.models.study import Study


@dataclass(frozen=True)
class RunningWork:
    """What is going on in a served study, as far as a reload must respect it."""

    in_flight_by_persona: Counter[str]
    operators_connected: int
    participants: int
    participants_with_arms: int
    in_flight_by_upstream: Counter[str] = field(default_factory=Counter)


# What the participants of a study agreed to, by a name users recognise.
_AGREED: dict[str, Callable[[Study], object]] = {
    "consent_required": lambda s: s.study.consent_required,
    "consent text and version": lambda s: s.study.consent,
    "deception design": lambda s: (s.study.deception, s.study.deception_justification),
    "debrief": lambda s: s.study.debrief,
    "permitted uses": lambda s: sorted(s.study.permitted_uses),
    "data license": lambda s: s.study.data_license,
}


def refusals(old: Study, new: Study, work: RunningWork) -> list[str]:
    """Why `new` may not replace `old` now (empty: it may)."""
    if new.id != old.id:
        return [
            f"the study id changed from {old.id!r} to {new.id!r}; a study keeps its id (its"
            " keys, records and pseudonyms are filed under it): put a new study in a new file"
        ]
    reasons = _persona_refusals(old, new, work) + _upstream_refusals(old, new, work)
    if new.routing != old.routing:
        busy = _busy(work)
        if busy:
            reasons.append(
                f"[routing] changed while {busy}; deadlines, leases and the queue limit are"
                " set when the study's dispatcher starts: apply it when the study is idle"
            )
    if (new.arms, new.conditions) != (old.arms, old.conditions) and work.participants_with_arms:
        reasons.append(
            f"assignment ([[arms]], [conditions]) changed, but {work.participants_with_arms}"
            " participant(s) already have an arm; an ongoing study keeps its design: start a"
            " new study (a new id) for a new one"
        )
    if work.participants:
        for what, part in _AGREED.items():
            if part(new) != part(old):
                reasons.append(
                    f"the {what} changed, but the study has {work.participants} participant(s)"
                    " who agreed to the current one; start a new study (a new id) instead"
                )
    return reasons


def _persona_refusals(old: Study, new: Study, work: RunningWork) -> list[str]:
    reasons = []
    for persona in old.personas:
        waiting = work.in_flight_by_persona.get(persona.id, 0)
        if not waiting:
            continue
        kept = new.persona(persona.id)
        if kept is None:
            reasons.append(
                f"model {persona.id!r} was removed, but {waiting} task(s) for it are in"
                " flight; remove it once they are answered"
            )
        elif kept.mode != persona.mode:
            reasons.append(
                f"model {persona.id!r} changed mode from {persona.mode} to {kept.mode}, but"
                f" {waiting} task(s) for it are in flight"
            )
    return reasons


def _upstream_refusals(old: Study, new: Study, work: RunningWork) -> list[str]:
    reasons = []
    kept = {upstream.id: upstream for upstream in new.upstreams}
    for upstream in old.upstreams:
        using = work.in_flight_by_upstream.get(upstream.id, 0)
        if using and kept.get(upstream.id) != upstream:
            change = "was removed" if upstream.id not in kept else "changed"
            reasons.append(
                f"upstream {upstream.id!r} {change}, but {using} task(s) in flight use it"
            )
    return reasons


def _busy(work: RunningWork) -> str:
    parts = []
    in_flight = sum(work.in_flight_by_persona.values())
    if in_flight:
        parts.append(f"{in_flight} task(s) are in flight")
    if work.operators_connected:
        parts.append(f"{work.operators_connected} operator(s) are connected")
    return " and ".join(parts)
