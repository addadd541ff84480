"""What a study file sets up, in a few lines a researcher can check (`woz check`).

A file that parses is valid; these lines say what it will do, and the warnings
point at choices that are allowed but often unintended.
"""

from __future__ import annotations

from woz.media.speech.study_voice import plan_voice, voice_problem
from woz.models.study import Study
from woz.research.pay_report import PROLIFIC_RATES


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
    lines.append(("recruit", _recruitment(study)))
    if study.embedding.allow:
        lines.append(("framed by", ", ".join(study.embedding.allow)))
    if study.questionnaires:
        asked = ", ".join(
            f"{q.id} ({q.when}{', arms ' + '/'.join(q.arms) if q.arms else ''})"
            for q in study.questionnaires
        )
        lines.append(("questionnaires", asked))
    return lines


def _recruitment(study: Study) -> str:
    recruitment = study.recruitment
    codes = [
        f"{name} {code}"
        for name, code in (
            ("completion", recruitment.completion_code),
            ("screen-out", recruitment.screened_out_code),
            ("timeout", recruitment.timed_out_code),
        )
        if code
    ]
    parts = [f"{recruitment.platform} (id from ?{recruitment.params.participant}=)"]
    parts.append("codes " + ", ".join(codes) if codes else "no codes")
    if recruitment.time_limit_minutes:
        parts.append(f"chat limited to {recruitment.time_limit_minutes:g} min")
    if recruitment.pay:
        expected = recruitment.expected_minutes
        pay = f"pays {recruitment.pay:g} {recruitment.currency}"
        parts.append(pay + (f" for {expected:g} min" if expected else ""))
    return "; ".join(parts)


def _voice(study: Study) -> str:
    plan = plan_voice(study.voice)
    upstream = f" at upstream {plan.upstream}" if plan.upstream else ""
    line = f"{plan.engine}{upstream}, voice {plan.voice}, speed {plan.speed:g}"
    line += "; participants' recordings kept" if study.voice.keep_audio else ""
    line += "; voice mode on the participant page" if study.participant_page.voice else ""
    return line + (f" ({plan.fallback})" if plan.fallback else "")


def _recruitment_warnings(study: Study) -> list[str]:
    recruitment = study.recruitment
    found = []
    if recruitment.platform != "generic" and not recruitment.completion_code:
        found.append(
            f"[recruitment] platform {recruitment.platform} but no completion_code: "
            "participants finish with no code to give the platform"
        )
    rates = PROLIFIC_RATES.get(recruitment.currency)
    expected = recruitment.expected_minutes
    if recruitment.platform == "prolific" and rates and recruitment.pay and expected:
        rate = recruitment.pay * 60 / expected
        if rate < rates[0]:
            found.append(
                f"[recruitment] pays {rate:.2f} {recruitment.currency}/hour for "
                f"{expected:g} min, below Prolific's minimum of {rates[0]:.2f}"
            )
    return found


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
    found.extend(_recruitment_warnings(study))
    problem = voice_problem(plan_voice(study.voice))
    if problem:
        found.append(f"[voice]: {problem}: /v1/audio/speech and /v1/realtime will not speak")
    if study.voice.keep_audio and not section.consent_required:
        found.append(
            "[voice] keep_audio keeps participants' recordings, but consent_required is false: "
            "voices may be recorded from people who did not agree"
        )
    return found
