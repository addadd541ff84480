"""What a study file sets up, in a few lines a researcher can check (`woz check`).

A file that parses is valid; these lines say what it will do, and the warnings
point at choices that are allowed but often unintended.
"""

from __future__ import annotations

from woz.models.study import Study
from woz.speech.study_voice import plan_voice, voice_problem


def summary(study: Study) -> list[tuple[str, str]]:
    """(topic, what the study sets) pairs, in the order of the study file."""
    section = study.study
    personas = ", ".join(
        f"{p.id} ({p.mode}{', live typing' if p.live else ''}, presented as {p.presented_as})"
        for p in study.personas
    )
    consent = "required" if section.consent_required else "not required"
    debrief = section.debrief
    routing, pacing, labor = study.routing, study.pacing, study.labor
    late = debrief.policy == "end_of_study"
    irb = section.irb_protocol
    redacted = ", ".join(study.privacy.redact)
    lines = [
        ("study", f"{section.id}: {section.title}"),
        ("personas", personas),
        ("page", f"participants see {study.page_title!r}, talking to {study.page_persona.id}"),
        (
            "deception",
            section.deception + (f", IRB {irb}" if (irb := section.irb_protocol) else ""),
        ),
        ("consent", f"{consent}; version {section.consent.version}"),
        ("debrief", debrief.policy + (f", within {debrief.deadline_days} days" if late else "")),
        ("uses", f"{', '.join(section.permitted_uses) or 'none'}; license {section.data_license}"),
        (
            "routing",
            f"answer timeout {routing.answer_timeout_s:g} s, then {routing.on_timeout}; "
            f"queue limit {routing.queue_limit}; reconnect grace {routing.reconnect_grace_s:g} s",
        ),
        (
            "pacing",
            f"{pacing.tokens_per_second:g} tokens/s after {pacing.first_token_delay_ms} ms"
            if pacing.tokens_per_second
            else "answers sent at once",
        ),
        ("privacy", f"redacts {redacted}" if redacted else "nothing redacted"),
        (
            "labor",
            f"{labor.pay_rate:g} {labor.currency} per {labor.pay_unit}, floor {labor.pay_floor:g}"
            if labor.pay_rate
            else "no pay rate",
        ),
        ("snippets", str(len(study.snippets))),
        ("voice", _voice(study)),
    ]
    if study.arms:
        arms = ", ".join(arm.id for arm in study.arms)
        lines.append(("arms", f"{arms}, assigned {study.conditions.assignment}"))
    if study.questionnaires:
        asked = ", ".join(
            f"{q.id} ({q.when}{', arms ' + '/'.join(q.arms) if q.arms else ''})"
            for q in study.questionnaires
        )
        lines.append(("questionnaires", asked))
    return lines


def _voice(study: Study) -> str:
    plan = plan_voice(study.voice)
    upstream = f" at upstream {plan.upstream}" if plan.upstream else ""
    line = f"{plan.engine}{upstream}, voice {plan.voice}, speed {plan.speed:g}"
    return line + (f" ({plan.fallback})" if plan.fallback else "")


def warnings(study: Study) -> list[str]:
    """Choices a study file may make but that researchers seldom mean."""
    section, labor = study.study, study.labor
    found = []
    if not labor.pay_rate:
        found.append("[labor] sets no pay_rate: the labor ledger and operators' work show no pay")
    trains = "internal_model_training" in section.permitted_uses
    if trains and not labor.reuse_agreement.text.strip():
        found.append(
            "the data may train models, but [labor.reuse_agreement] is empty: operators are "
            "never asked whether their answers may be reused"
        )
    if not section.consent.text.strip():
        found.append("[study.consent] has no text: participants are shown nothing to agree to")
    if section.debrief.policy != "none" and not section.debrief.text.strip():
        found.append("[study.debrief] has no text: a debrief would show nothing")
    problem = voice_problem(plan_voice(study.voice))
    if problem:
        found.append(f"[voice]: {problem}: /v1/audio/speech will fail")
    return found
