"""Exports as a researcher makes them: every format, the card, the manifest, the refusals."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.conftest import Woz
from tests.integration.research_seed import answer_task
from woz.config import Settings
from woz.export import ExportRefused, export_dataset
from woz.export.formats import WRITERS
from woz.export.rows import PROVENANCE_FIELDS
from woz.models.pseudonyms import tombstone_of
from woz.models.task import ProducedBy

TWO_USES = {"study.permitted_uses": '["in_study_analysis", "internal_model_training"]'}
DECEPTIVE = {
    "study.deception": '"partial"',
    "study.irb_protocol": '"IRB-7"',
    "study.permitted_uses": '["in_study_analysis"]',
}
DECEPTIVE_TOML = """
[study]
id = "deceptive"
title = "A deceptive study"
deception = "partial"
irb_protocol = "IRB-7"

[study.debrief]
text = "A person wrote every answer."
deadline_days = 7

[[personas]]
id = "wizard"

[pacing]
tokens_per_second = 0
"""


async def run_woz(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "woz",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def research_post(woz: Woz, path: str, body: dict[str, Any] | None = None) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{woz.url}/woz{path}",
            json=body or {},
            headers={"Authorization": f"Bearer {woz.app_key}"},
        ) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json()


def everything_in(folder: Path) -> str:
    return "\n".join(path.read_text("utf-8") for path in sorted(folder.iterdir()))


def jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def front_matter(card: str) -> dict[str, Any]:
    assert card.startswith("---\n")
    matter, _, _ = card[4:].partition("\n---\n")
    parsed: dict[str, Any] = yaml.safe_load(matter)
    return parsed


@pytest.mark.parametrize("study_toml", [TWO_USES], indirect=True)
async def test_withdrawn_participants_leave_no_trace_in_any_format(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """100 participants, 10 withdraw: none of the 10 appears in any format; manifests count them."""
    people = [f"person-{i:03d}@lab" for i in range(100)]
    for i, person in enumerate(people):
        await answer_task(
            woz,
            person,
            f"my note marker-{i:03d}x",
            f"reply marker-{i:03d}y",
            draft=f"model draft marker-{i:03d}z",
            produced_by=ProducedBy.HUMAN_EDITED_MODEL_DRAFT,
        )
    gone = people[:10]
    for person in gone:
        result = await research_post(woz, f"/participants/{person}/withdraw")
        assert result["withdrawn"] is True and result["records_deleted"] == 1
    pseudonyms = [woz.runtime.participants.pseudonym_of(p) for p in gone]
    traces = [*gone, *pseudonyms, *(f"marker-{i:03d}" for i in range(10))]
    for fmt in WRITERS:  # the record formats (the analysis formats: test_survey_exports)
        out = tmp_path / fmt
        manifest = await export_dataset(woz.store, woz.study, fmt, "internal_model_training", out)
        text = everything_in(out)
        assert not [trace for trace in traces if trace in text], fmt
        assert "marker-010x" in text and "marker-099y" in text
        assert manifest.records == 90 and manifest.participants == 90
        assert manifest.withdrawn_participants == 10
        assert manifest.exclusions == {"withdrawn": 10}
        assert sorted(manifest.tombstones) == sorted(tombstone_of(p) for p in pseudonyms)
        assert "README.md" in manifest.files and len(manifest.files) == 2
    if settings.database_url is not None:
        return  # PostgreSQL frees deleted rows by VACUUM, not at once (docs/deploy.md)
    # Nor is it in the database: deleted pages are zeroed, the write-ahead log emptied.
    database = b"".join(
        path.read_bytes() for path in settings.data.iterdir() if path.name.startswith("woz.db")
    )
    assert b"marker-000x" not in database and b"marker-050x" in database


async def test_purpose_not_permitted_is_refused(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """Exporting for a use the study does not permit exits 2 with one line and writes nothing."""
    await answer_task(woz, "ada", "hello", "hi")
    out = tmp_path / "out"
    code, _, err = await run_woz(
        "--data", str(settings.data), "export", "--study", woz.study.id,
        "--format", "openai-chat", "--purpose", "commercial_use", "--out", str(out),
    )  # fmt: skip
    assert code == 2
    assert err.strip() == (
        "woz: purpose 'commercial_use' is not a permitted use of study 'test-study' "
        "(permitted: in_study_analysis); the participants did not agree to it"
    )
    assert not out.exists()


@pytest.mark.parametrize("study_toml", [DECEPTIVE_TOML], indirect=True)
async def test_deceptive_study_past_debrief_deadline_is_refused_until_debriefed(
    woz: Woz, tmp_path: Path, settings: Settings
) -> None:
    """Undebriefed participants past the deadline block the export; debriefing unblocks it."""
    await answer_task(woz, "ada", "a gift?", "a scarf")
    await answer_task(woz, "bob", "a book?", "a novel")
    args = ["--data", str(settings.data), "export", "--study", "deceptive",
            "--format", "hf", "--purpose", "in_study_analysis"]  # fmt: skip
    code, _, err = await run_woz(*args, "--out", str(tmp_path / "first"))
    assert code == 2 and "2 participant(s)" in err and "past their debrief deadline" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    await research_post(woz, "/participants/ada/debrief")
    code, _, err = await run_woz(*args, "--out", str(tmp_path / "second"))
    assert code == 2 and "1 participant(s)" in err
    code, _, err = await run_woz("--data", str(settings.data), "participants", "debrief",
                                   "--study", "deceptive", "bob")  # fmt: skip
    assert code == 0, err
    code, _, err = await run_woz(*args, "--out", str(tmp_path / "third"))
    assert code == 0, err
    rows = jsonl(tmp_path / "third" / "data.jsonl")
    assert [row["debriefed"] for row in rows] == [True, True]
    assert all(row["debriefed_at"] and row["deception"] == "partial" for row in rows)


async def test_card_front_matter_parses_and_matches_the_manifest(woz: Woz, tmp_path: Path) -> None:
    """The generated card is YAML front matter plus prose; its counts are the manifest's."""
    await answer_task(woz, "ada", "one", "human answer")
    await answer_task(woz, "bob", "two", "edited answer", draft="model answer",
                      produced_by=ProducedBy.HUMAN_EDITED_MODEL_DRAFT)  # fmt: skip
    manifest = await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "x")
    card = (tmp_path / "x" / "README.md").read_text()
    matter = front_matter(card)
    assert matter["license"] == "cc-by-4.0" and "wizard-of-oz" in matter["tags"]
    assert matter["woz"]["records"] == manifest.records == 2
    assert matter["woz"]["produced_by"] == manifest.produced_by
    assert manifest.produced_by == {"human": 1, "human_edited_model_draft": 1}
    assert matter["woz"]["exclusions"] == manifest.exclusions
    assert "machine-generated" in matter["language_creators"]
    assert matter["configs"][0]["data_files"][0]["path"] == "data.jsonl"
    for heading in ("How the data was made", "Deception and debriefing", "Who are the annotators?",
                    "Personal and Sensitive Information"):  # fmt: skip
        assert f"## {heading}" in card
    assert "people impersonating an AI" in card and "Wizard-of-Oz" in card
    on_disk = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert on_disk["files"]["README.md"]["bytes"] == len(card.encode())


async def test_hf_export_loads_with_datasets(
    woz: Woz, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`datasets.load_dataset("json", ...)` reads the hf export with provenance as columns."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets

    await answer_task(woz, "ada", "one", "first")
    await answer_task(woz, None, "two", "second", draft="draft two")
    await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "hf-out")
    loaded = datasets.load_dataset(
        "json",
        data_files=str(tmp_path / "hf-out" / "data.jsonl"),
        split="train",
        cache_dir=str(tmp_path / "cache"),
    )
    assert loaded.num_rows == 2
    assert set(PROVENANCE_FIELDS) <= set(loaded.column_names)
    assert sorted(loaded["answer"]) == ["first", "second"]
    assert loaded[0]["messages"][1]["role"] == "user"


async def test_every_row_of_every_format_carries_provenance_and_no_operator_identity(
    woz: Woz, tmp_path: Path
) -> None:
    """Each row has all provenance fields; operator keys and display names never appear."""
    await answer_task(woz, "ada", "hello", "hi", operator="key_secretop",
                      draft="hey", produced_by=ProducedBy.HUMAN_EDITED_MODEL_DRAFT)  # fmt: skip
    for fmt in WRITERS:  # the record formats (the analysis formats: test_survey_exports)
        out = tmp_path / fmt
        await export_dataset(woz.store, woz.study, fmt, "in_study_analysis", out)
        text = everything_in(out)
        assert "key_secretop" not in text and "Olive" not in text
        if fmt == "csv":
            rows = list(csv.DictReader((out / "transcripts.csv").read_text().splitlines()))
            assert [r["role"] for r in rows] == ["system", "user", "assistant"]
            assert all(set(PROVENANCE_FIELDS) <= set(r) for r in rows)
            assert rows[-1]["is_answer"] == "True" and rows[-1]["operator"].startswith("op_")
            continue
        [row] = jsonl(out / "data.jsonl")
        fields = row if fmt == "hf" else row["woz"]
        assert set(PROVENANCE_FIELDS) <= set(fields)
        assert fields["produced_by"] == "human_edited_model_draft" and fields["synthetic"]
        if fmt == "preference":
            assert row["chosen"] == [{"role": "assistant", "content": "hi"}]
            assert row["rejected"] == [{"role": "assistant", "content": "hey"}]
        if fmt == "openai-chat":
            assert row["messages"][-1] == {"role": "assistant", "content": "hi"}


async def test_unfinished_tasks_and_fallbacks_are_excluded_unless_asked(
    woz: Woz, tmp_path: Path
) -> None:
    """client_gone and fallback rows are left out and counted; --include brings them, flagged."""
    await answer_task(woz, "ada", "kept", "yes")
    await answer_task(woz, "bob", "fallback", "sorry", produced_by=ProducedBy.FALLBACK)
    gone = await answer_task(woz, "cy", "left", "too late")
    await woz.store.set_record_status(gone, "client_gone")  # type: ignore[arg-type]
    manifest = await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "a")
    assert manifest.records == 1
    assert manifest.exclusions == {"fallback": 1, "client_gone": 1}
    manifest = await export_dataset(
        woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "b",
        include=["client_gone", "fallback"],
    )  # fmt: skip
    assert manifest.records == 3
    assert manifest.included_on_request == {"client_gone": 1, "fallback": 1}
    rows = jsonl(tmp_path / "b" / "data.jsonl")
    assert sorted(r["flags"] for r in rows) == [
        [],
        ["included_on_request:client_gone"],
        ["included_on_request:fallback"],
    ]
    with pytest.raises(ExportRefused, match="not an empty folder"):
        await export_dataset(woz.store, woz.study, "hf", "in_study_analysis", tmp_path / "b")
