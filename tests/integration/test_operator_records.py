"""What a study keeps about its operators, with `woz operators` and `woz records`:
consent to the reuse of their text (an export never serves a purpose an operator left
out), their training, and answers flagged as wizard errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import STUDY_TOML, Woz, with_values
from tests.integration.research_seed import answer_task
from tests.integration.test_exports import jsonl, run_woz
from woz.auth.tokens import create_key
from woz.config import Settings
from woz.export import export_dataset
from woz.models.task import ProducedBy
from woz.research.audit import verify_chain

USES = {"study.permitted_uses": '["in_study_analysis", "internal_model_training"]'}
AGREEMENT = """
[labor.reuse_agreement]
text = "The answers I write may be used for the purposes I tick."
version = "2"
"""
ASKED = with_values(STUDY_TOML, USES) + AGREEMENT
REQUIRED = with_values(STUDY_TOML, USES) + "\n[labor]\nreuse_consent_required = true\n" + AGREEMENT


async def operators(woz: Woz) -> tuple[str, str]:
    """Key ids of Olive (the fixture's operator) and of a second operator, Bob."""
    keys = await woz.store.list_keys(woz.study.id)
    olive = next(k.id for k in keys if k.name == "Olive")
    bob, _ = await create_key(woz.store, woz.study.id, "operator", "Bob")
    return olive, bob.id


async def woz_cli(settings: Settings, *args: str) -> tuple[int, str, str]:
    return await run_woz("--data", str(settings.data), *args)


async def seed(woz: Woz, olive: str, bob: str) -> None:
    await answer_task(woz, "ada", "hello", "olive wrote this", operator=olive)
    await answer_task(woz, "bea", "hi", "bob wrote this", operator=bob)
    await answer_task(
        woz, "cy", "hey", "a model wrote this", operator=None, produced_by=ProducedBy.MODEL
    )


def answers(out: Path) -> list[str]:
    return sorted(row["messages"][-1]["content"] for row in jsonl(out / "data.jsonl"))


@pytest.mark.parametrize("study_toml", [ASKED], indirect=True)
async def test_an_operator_s_consent_limits_every_export_of_their_text(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """Olive grants analysis only: her text leaves training exports; Bob recorded nothing."""
    olive, bob = await operators(woz)
    await seed(woz, olive, bob)
    code, out, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", "Olive",
        "--scope", "in_study_analysis",
    )  # fmt: skip
    assert code == 0, err
    assert "agreement version 2: in_study_analysis." in out

    code, listing, _ = await woz_cli(settings, "operators", "list", "--study", "test-study")
    assert code == 0
    olive_line = next(line for line in listing.splitlines() if line.startswith(olive))
    bob_line = next(line for line in listing.splitlines() if line.startswith(bob))
    assert "Olive" in olive_line and "op_" in olive_line and "in_study_analysis" in olive_line
    assert bob_line.endswith("not recorded")

    training = tmp_path / "training"
    manifest = await export_dataset(
        woz.store, woz.study, "openai-chat", "internal_model_training", training
    )
    assert answers(training) == ["a model wrote this", "bob wrote this"]
    assert manifest.exclusions == {"operator_did_not_consent": 1}
    card = (training / "README.md").read_text()
    assert "1 of the 1 operator(s) in this export" not in card  # Bob recorded none
    assert "0 of the 1 operator(s) in this export recorded one covering" in card

    analysis = tmp_path / "analysis"
    manifest = await export_dataset(
        woz.store, woz.study, "openai-chat", "in_study_analysis", analysis
    )
    assert len(answers(analysis)) == 3 and manifest.exclusions == {}

    code, _, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", olive, "--none"
    )
    assert code == 0, err
    withdrawn = tmp_path / "withdrawn"
    manifest = await export_dataset(
        woz.store, woz.study, "openai-chat", "in_study_analysis", withdrawn
    )
    assert answers(withdrawn) == ["a model wrote this", "bob wrote this"]
    assert manifest.exclusions == {"operator_did_not_consent": 1}

    audit = await woz.store.list_audit(woz.study.id)
    granted = [entry for entry in audit if entry.action == "operator_consent.granted"]
    assert [entry.details["scopes"] for entry in granted] == [["in_study_analysis"], []]
    assert verify_chain(woz.study.id, audit).ok


@pytest.mark.parametrize("study_toml", [REQUIRED], indirect=True)
async def test_where_consent_is_required_text_without_one_is_not_exported(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """Required: Bob, who recorded nothing, is left out; model text needs no operator's consent."""
    olive, bob = await operators(woz)
    await seed(woz, olive, bob)
    code, _, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", olive, "--all-permitted"
    )
    assert code == 0, err
    out = tmp_path / "out"
    manifest = await export_dataset(woz.store, woz.study, "hf", "internal_model_training", out)
    rows = jsonl(out / "data.jsonl")
    assert sorted(row["answer"] for row in rows) == [
        "a model wrote this",
        "olive wrote this",
    ]
    assert manifest.exclusions == {"operator_consent_missing": 1}
    assert json.loads((out / "manifest.json").read_text())["exclusions"] == manifest.exclusions
    assert (
        "1 of the 1 operator(s) in this export recorded one covering"
        in (out / "README.md").read_text()
    )
    assert manifest.operators == 1 and manifest.operators_consented == 1


@pytest.mark.parametrize("study_toml", [ASKED], indirect=True)
async def test_consent_commands_refuse_unknown_operators_and_uses(
    woz: Woz, settings: Settings
) -> None:
    """An unknown operator or a use the study does not permit: exit 2, one line naming it."""
    code, _, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", "Zed", "--all-permitted"
    )
    assert code == 2
    assert err.startswith("woz: no operator key is named 'Zed' in study 'test-study'")
    assert "(Olive)" in err
    code, _, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", "Olive",
        "--scope", "commercial_use",
    )  # fmt: skip
    assert code == 2
    assert err.strip() == (
        "woz: scopes ['commercial_use'] are not permitted uses of this study "
        "(permitted: ['in_study_analysis', 'internal_model_training'])"
    )
    code, _, err = await woz_cli(settings, "operators", "consent", "--study", "test-study", "Olive")
    assert code == 2 and "one of the arguments --scope --all-permitted --none" in err


async def test_a_study_without_an_agreement_has_nothing_to_consent_to(
    woz: Woz, settings: Settings
) -> None:
    """Without [labor.reuse_agreement] no consent can be recorded: there is no text to agree to."""
    code, _, err = await woz_cli(
        settings, "operators", "consent", "--study", "test-study", "Olive", "--all-permitted"
    )
    assert code == 2
    assert "has no reuse agreement for operators to consent to" in err


async def test_training_is_recorded_listed_and_told_in_the_card(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """`woz operators train` appends a training; the list and the dataset card show it."""
    olive, bob = await operators(woz)
    await seed(woz, olive, bob)
    code, out, err = await woz_cli(
        settings, "operators", "train", "--study", "test-study", "Olive",
        "--note", "Two hours on the study protocol", "--at", "2026-03-01T09:00",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip().endswith("was trained on 2026-03-01: Two hours on the study protocol")
    code, listing, _ = await woz_cli(settings, "operators", "list", "--study", "test-study")
    assert "2026-03-01" in next(line for line in listing.splitlines() if line.startswith(olive))
    assert next(line for line in listing.splitlines() if line.startswith(bob)).split()[3] == "-"
    manifest = await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "x")
    card = (tmp_path / "x" / "README.md").read_text()
    assert manifest.operators == 2 and manifest.operators_trained == 1
    assert "Training: 1 of the 2 operator(s) in this export have a recorded training" in card
    [entry] = [
        e for e in await woz.store.list_audit(woz.study.id) if e.action == "operator.trained"
    ]
    assert entry.details["note"] == "Two hours on the study protocol"

    code, _, err = await woz_cli(
        settings, "operators", "train", "--study", "test-study", "Olive", "--note", "x",
        "--at", "last tuesday",
    )  # fmt: skip
    assert code == 2 and "'last tuesday' is not an ISO 8601 time" in err


async def test_a_wizard_error_is_left_out_unless_asked_for_and_can_be_cleared(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """A flagged record is excluded and counted; included on request with its note; cleared."""
    olive, bob = await operators(woz)
    wrong = await answer_task(woz, "ada", "hello", "olive slipped", operator=olive)
    await answer_task(woz, "bea", "hi", "bob wrote this", operator=bob)
    code, out, err = await woz_cli(
        settings, "records", "flag", "--study", "test-study", wrong,
        "--wizard-error", "answered as the wrong persona",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == f"Record {wrong} flagged as a wizard error: answered as the wrong persona"
    code, listing, _ = await woz_cli(settings, "records", "list", "--study", "test-study")
    assert code == 0
    line = next(line for line in listing.splitlines() if line.startswith(wrong))
    assert "hello" in line and "answered as the wrong persona" in line and "delivered" in line
    code, shown, _ = await woz_cli(settings, "records", "show", "--study", "test-study", wrong)
    assert code == 0 and json.loads(shown)["wizard_error"] == "answered as the wrong persona"
    code, _, err = await woz_cli(settings, "records", "show", "--study", "test-study", "rec_x")
    assert code == 2 and err.strip() == "woz: study 'test-study' has no record 'rec_x'"

    plain = tmp_path / "plain"
    manifest = await export_dataset(woz.store, woz.study, "openai-chat", "in_study_analysis", plain)
    assert answers(plain) == ["bob wrote this"]
    assert manifest.exclusions == {"wizard_error": 1}
    assert "1 flagged row(s) were left out" in (plain / "README.md").read_text()

    asked = tmp_path / "asked"
    await export_dataset(
        woz.store, woz.study, "csv", "in_study_analysis", asked, include=["wizard_error"]
    )
    transcripts = (asked / "transcripts.csv").read_text().splitlines()
    rows = {row["record_id"]: row for row in csv.DictReader(transcripts)}
    assert rows[wrong]["wizard_error"] == "answered as the wrong persona"
    assert rows[wrong]["flags"] == "included_on_request:wizard_error"

    code, _, err = await woz_cli(
        settings, "records", "flag", "--study", "test-study", wrong, "--clear"
    )
    assert code == 0, err
    record = await woz.store.get_record(wrong)
    assert record is not None and record.wizard_error is None
    cleared = tmp_path / "cleared"
    manifest = await export_dataset(
        woz.store, woz.study, "openai-chat", "in_study_analysis", cleared
    )
    assert len(answers(cleared)) == 2 and manifest.exclusions == {}
    actions = [e.action for e in await woz.store.list_audit(woz.study.id)]
    assert "record.wizard_error" in actions and "record.wizard_error_cleared" in actions

    code, _, err = await woz_cli(
        settings, "records", "flag", "--study", "test-study", "rec_nope", "--wizard-error", "x"
    )
    assert code == 2 and err.strip() == "woz: study 'test-study' has no record 'rec_nope'"
