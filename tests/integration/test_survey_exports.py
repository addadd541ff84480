"""The analysis exports: `transcripts` and `questionnaires`, read back as CSV and Parquet."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import STUDY_TOML, Woz
from tests.integration.research_seed import answer_task
from tests.integration.test_exports import run_woz
from woz.config import Settings
from woz.export import FORMATS, export_dataset
from woz.export.rows import PROVENANCE_FIELDS
from woz.research.consent import ConsentGrant
from woz.research.questionnaires import Questionnaires

SURVEY_STUDY = (
    STUDY_TOML.replace(
        'title = "A test study"',
        'title = "A test study"\npermitted_uses = ["in_study_analysis", "internal_model_training"]',
    )
    + """
[[questionnaires]]
id = "pre"
when = "before"
[[questionnaires.items]]
id = "langs"
kind = "multiple"
text = "Languages you speak?"
options = ["en", "fr", "de"]
[[questionnaires.items]]
id = "age"
kind = "short_text"
text = "Your age?"

[[questionnaires]]
when = "after"
instrument = "sus"
"""
)
SUS_ALL_4 = {f"sus_{n}": 4 for n in range(1, 11)}  # odd items 3, even items 1: 20 x 2.5 = 50


@pytest.fixture
def study_toml() -> str:
    return SURVEY_STUDY


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def take_part(woz: Woz, who: str, rating: int | None, langs: list[str]) -> str:
    """A participant's answered turn, both questionnaires, and a thumb; their pseudonym."""
    participant = woz.runtime.participants.pseudonym_of(who)
    record = await answer_task(woz, who, f"question from {who}", f"answer to {who}")
    service = Questionnaires(woz.store, woz.study)
    for questionnaire, answers in (("pre", {"langs": langs, "age": "33"}), ("sus", SUS_ALL_4)):
        found = service.find(questionnaire)
        assert found is not None
        assert await service.submit(participant, found, None, answers, "test") is not None
    await service.read(participant, record)
    if rating is not None:
        await service.rate(participant, record, rating, f"{who} says", "test")  # type: ignore[arg-type]
    return participant


async def test_transcripts_have_a_row_per_message_with_ratings(woz: Woz, tmp_path: Path) -> None:
    """CSV and Parquet hold the same rows: every message, provenance on each, the thumb on the
    answer; a withdrawn participant is in neither."""
    assert {"transcripts", "questionnaires"} <= set(FORMATS)
    ada = await take_part(woz, "ada", 1, ["en"])
    bob = await take_part(woz, "bob", -1, ["fr", "en"])
    await take_part(woz, "cy", 1, ["de"])
    await woz.runtime.participants.withdraw(woz.runtime.participants.pseudonym_of("cy"), "t")
    out = tmp_path / "t"
    manifest = await export_dataset(woz.store, woz.study, "transcripts", "in_study_analysis", out)
    assert manifest.records == 2 and manifest.exclusions == {"withdrawn": 1}
    assert set(manifest.files) == {"transcripts.csv", "transcripts.parquet", "README.md"}

    rows = read_csv(out / "transcripts.csv")
    assert [(r["participant"], r["role"]) for r in rows] == [
        (who, role) for who in (ada, bob) for role in ("system", "user", "assistant")
    ]
    assert set(PROVENANCE_FIELDS) <= set(rows[0])
    answer = rows[2]
    assert (answer["text"], answer["rating"], answer["feedback_comment"]) == (
        "answer to ada",
        "1",
        "ada says",
    )
    assert answer["is_answer"] == "true" and answer["produced_by"] == "human"
    assert answer["operator"].startswith("op_") and answer["session"] == answer["conversation_id"]
    assert rows[1]["rating"] == "" and rows[5]["rating"] == "-1"
    assert rows[1]["read_at"] == "" and answer["read_at"] > answer["delivered_at"]
    assert (
        rows[1]["sent_at"] == answer["received_at"] and answer["sent_at"] == answer["delivered_at"]
    )
    assert "cy" not in (out / "transcripts.csv").read_text()

    table = pq.read_table(out / "transcripts.parquet")
    assert table.num_rows == len(rows) and table.column_names == list(rows[0])
    assert table.schema.field("sent_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("rating").type == pa.int64()
    assert table.schema.field("read_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("rating").to_pylist() == [None, None, 1, None, None, -1]
    assert table.column("permitted_uses").to_pylist()[0] == [
        "in_study_analysis",
        "internal_model_training",
    ]


async def test_questionnaires_have_a_row_per_participant_with_scores(
    woz: Woz, tmp_path: Path
) -> None:
    """One row per participant, a column per item, SUS scored; a participant whose consent
    does not cover the purpose is left out and counted."""
    ada = await take_part(woz, "ada", None, ["en", "fr"])
    bob = await take_part(woz, "bob", None, [])
    await woz.runtime.participants.consent(bob, ConsentGrant(scopes=["in_study_analysis"]), "t")
    out = tmp_path / "q"
    manifest = await export_dataset(
        woz.store, woz.study, "questionnaires", "internal_model_training", out
    )
    assert manifest.exclusions["questionnaire:purpose_not_consented"] == 2  # bob's two forms
    [row] = read_csv(out / "questionnaires.csv")
    assert row["participant"] == ada and bob not in (out / "questionnaires.csv").read_text()
    assert (row["pre.langs"], row["pre.age"], row["sus.score"], row["sus.sus_3"]) == (
        "en;fr", "33", "50.0", "4",
    )  # fmt: skip
    expected: list[str] = ["participant", "arm", "pre.langs", "pre.age", "pre.submitted_at"]
    expected += [f"sus.sus_{n}" for n in range(1, 11)] + ["sus.submitted_at", "sus.score"]
    assert list(row) == expected
    table = pq.read_table(out / "questionnaires.parquet")
    first: dict[str, Any] = table.to_pylist()[0]
    assert first["pre.langs"] == ["en", "fr"] and first["sus.score"] == 50.0
    assert first["sus.sus_1"] == 4 and first["arm"] is None
    assert table.schema.field("sus.submitted_at").type == pa.timestamp("us", tz="UTC")
    card = (out / "README.md").read_text()
    assert "## Questionnaires" in card and "System Usability Scale" in card
    assert "`pre.langs`: multiple" in card


async def test_the_command_line_exports_and_reports_the_ratings(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """`woz export --format transcripts` writes both files; `woz report arms` gives the mean
    rating."""
    await take_part(woz, "ada", 1, ["en"])
    await take_part(woz, "bob", -1, [])
    await take_part(woz, "cy", 1, [])
    data = ["--data", str(settings.data)]
    out = tmp_path / "cli"
    code, printed, err = await run_woz(
        *data, "export", "--study", woz.study.id, "--format", "transcripts",
        "--purpose", "in_study_analysis", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert pq.read_table(out / "transcripts.parquet").num_rows == 9
    code, printed, err = await run_woz(
        *data, "report", "arms", "--study", woz.study.id, "--format", "json"
    )
    assert code == 0, err
    [arm] = json.loads(printed)
    assert (arm["ratings"], arm["rating_mean"]) == (3, round(1 / 3, 4))
