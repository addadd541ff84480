"""Humans and models together: assist drafts, model arms, fallback, and arm assignment.

The upstream model is played by `tests.fake_upstream`, a small OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import STUDY_TOML, Woz, ask, start_woz, with_values
from tests.fake_upstream import DRAFT, REQUESTS
from tests.integration.test_exports import run_woz
from woz.config import Settings


@pytest.fixture
def study_toml(upstream: TestServer, request: pytest.FixtureRequest) -> str:
    """The default test study with an upstream, an assist persona and a model persona."""
    extra = f"""
[[upstreams]]
id = "fake"
base_url = "{upstream.make_url("/v1")}"
model = "fake-1"
timeout_s = 1

[[personas]]
id = "assist"
mode = "assist"
upstream = "fake"
guide = "Be a kind concierge."

[[personas]]
id = "robot"
mode = "model"
upstream = "fake"
guide = "Be a kind concierge."
"""
    values = getattr(request, "param", {})
    return with_values(STUDY_TOML, values) + extra


async def exported(settings: Settings, tmp_path: Path, fmt: str) -> list[Any]:
    """The rows of `woz export --format fmt` for in-study analysis, as the CLI writes them."""
    out = tmp_path / fmt
    code, _, err = await run_woz(
        "--data", str(settings.data), "export", "--study", "test-study",
        "--format", fmt, "--purpose", "in_study_analysis", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    return [json.loads(line) for line in (out / "data.jsonl").read_text().splitlines()]


async def test_assist_draft_reaches_operator_and_provenance_follows_edits(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Edited and rewritten drafts give human_edited_model_draft and human, with ratios."""
    op = await woz.ready_operator()
    finals = {
        "edit": DRAFT.replace("timeless", "lovely"),
        "rewrite": "How about concert tickets instead?",
    }
    produced = {}
    for name, final in finals.items():
        call = ask(openai_client, f"A gift for {name}?", model="assist")
        task = await op.next_task()
        assert task["mode"] == "assist"
        draft = await op.expect("task.draft", task_id=task["id"], done=True)
        assert draft["text"].strip() == DRAFT
        ack = await op.reply(task["id"], final)
        assert (await call).choices[0].message.content == final
        record = await woz.store.get_record(ack["record_id"])
        assert record is not None and record.draft is not None
        assert record.draft.strip() == DRAFT and record.draft_source == "fake"
        produced[name] = (record.produced_by, record.edit_ratio, record.synthetic)
    assert produced["edit"][0] == "human_edited_model_draft" and 0 < produced["edit"][1] < 0.6
    assert produced["edit"][2] is True
    assert produced["rewrite"][0] == "human" and produced["rewrite"][1] >= 0.6
    assert produced["rewrite"][2] is False


async def test_only_changed_drafts_become_preference_pairs(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings, tmp_path: Path
) -> None:
    """Accepted drafts are no pair; edited and rewritten ones are: chosen human, rejected draft."""
    op = await woz.ready_operator()
    finals = [None, DRAFT.replace("timeless", "lovely"), "Concert tickets instead?"]
    for i, final in enumerate(finals):
        call = ask(openai_client, f"A gift {i}?", model="assist")
        task = await op.next_task()
        draft = await op.expect("task.draft", task_id=task["id"], done=True)
        await op.reply(task["id"], final or draft["text"])
        await call
    rows = await exported(settings, tmp_path, "preference")
    assert sorted(row["chosen"][0]["content"] for row in rows) == sorted(finals[1:])
    assert all(row["rejected"][0]["content"].strip() == DRAFT for row in rows)


async def test_accepting_the_draft_unchanged_is_model_text(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """An operator who sends the draft as it is has produced nothing: the text is the model's."""
    op = await woz.ready_operator()
    call = ask(openai_client, "A gift please", model="assist")
    task = await op.next_task()
    draft = await op.expect("task.draft", task_id=task["id"], done=True)
    ack = await op.reply(task["id"], draft["text"])
    await call
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None
    assert (record.produced_by, record.edit_ratio, record.synthetic) == ("model", 0.0, True)


@pytest.mark.parametrize("trouble, reason", [("fail", "http_500"), ("hang", "timeout")])
async def test_a_failed_draft_is_recorded_beside_the_humans_answer(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings, tmp_path: Path,
    trouble: str, reason: str,
) -> None:  # fmt: skip
    """When the assist model fails, the operator's own answer is `human` and the record's
    `failure` names the upstream's failure, in the store and in the export."""
    op = await woz.ready_operator()
    call = ask(openai_client, f"A gift, but {trouble}", model="assist")
    task = await op.next_task()
    drafted = await op.expect("task.draft", task_id=task["id"], done=True)
    assert drafted["error"] == reason
    ack = await op.reply(task["id"], "A pair of gardening gloves.")
    assert (await call).choices[0].message.content == "A pair of gardening gloves."
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None
    assert (record.produced_by, record.draft, record.synthetic) == ("human", None, False)
    assert record.failure is not None
    assert record.failure.startswith(f"draft upstream 'fake' failed ({reason})")
    [row] = await exported(settings, tmp_path, "openai-chat")
    assert row["woz"]["produced_by"] == "human" and row["woz"]["failure"] == record.failure


async def test_model_arm_streams_like_a_human_one(
    woz: Woz, openai_client: openai.AsyncOpenAI, upstream: TestServer
) -> None:
    """A model persona needs no operator and streams in the same wire format."""
    stream = await openai_client.chat.completions.create(
        model="robot",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Model answer to: hello"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None
    [record] = await woz.store.list_records(woz.study.id)
    assert record.produced_by == "model" and record.synthetic is True
    assert record.model == "fake:fake-1" and record.operator is None
    [sent] = upstream.app[REQUESTS]
    assert sent["model"] == "fake-1"
    assert sent["messages"] == [
        {"role": "system", "content": "Be a kind concierge."},  # the operators' guide
        {"role": "user", "content": "hello"},
    ]


async def test_failing_upstream_is_a_clear_recorded_502(
    openai_client: openai.AsyncOpenAI, woz: Woz
) -> None:
    """An upstream error is answered at once as a 502 and recorded as failed with its reason."""
    with pytest.raises(openai.InternalServerError) as caught:
        await openai_client.chat.completions.create(
            model="robot", messages=[{"role": "user", "content": "please fail"}]
        )
    assert caught.value.status_code == 502 and caught.value.code == "upstream_error"
    [record] = await woz.store.list_records(woz.study.id)
    assert record.status == "failed" and record.failure and "http_500" in record.failure


async def test_hanging_upstream_fails_within_its_timeout(
    openai_client: openai.AsyncOpenAI, woz: Woz
) -> None:
    """An upstream that never answers becomes a recorded timeout, not a hang."""
    with pytest.raises(openai.InternalServerError, match="timeout"):
        await asyncio.wait_for(
            openai_client.chat.completions.create(
                model="robot", messages=[{"role": "user", "content": "hang"}]
            ),
            timeout=10,
        )
    [record] = await woz.store.list_records(woz.study.id)
    assert record.status == "failed" and "timeout" in (record.failure or "")


@pytest.mark.parametrize(
    "study_toml",
    [
        {
            "routing.answer_timeout_s": "0.3",
            "routing.on_timeout": '"model"',
            "routing.fallback_upstream": '"fake"',
        }
    ],
    indirect=True,
)
async def test_timeout_hands_the_task_to_a_model(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """No human in time: the model answers, recorded as a fallback naming the model."""
    op = await woz.ready_operator()
    call = ask(openai_client, "anyone there")
    await op.next_task()
    assert (await op.expect("task.revoked"))["reason"] == "expired"
    assert (await call).choices[0].message.content == "Model answer to: anyone there"
    [record] = await woz.store.list_records(woz.study.id)
    assert record.produced_by == "fallback" and record.model == "fake:fake-1"
    assert record.synthetic is True


ARMS = """
[[arms]]
id = "human-arm"
mode = "human"

[[arms]]
id = "model-arm"
mode = "model"
upstream = "fake"
pacing = {{ tokens_per_second = 0, first_token_delay_ms = 0 }}

[conditions]
assignment = "{assignment}"
seed = {seed}
personas = ["wizard"]
reveal_to_operators = {reveal}
"""


def arms(assignment: str = "balanced", seed: int = 7, reveal: str = "false") -> str:
    return ARMS.format(assignment=assignment, seed=seed, reveal=reveal)


def model_only_arms(assignment: str = "balanced") -> str:
    """Both arms answered by the upstream, so many participants need no operator."""
    human = 'id = "human-arm"\nmode = "human"'
    return arms(assignment).replace(human, human.replace('"human"', '"model"\nupstream = "fake"'))


async def test_balanced_assignment_splits_200_participants_100_100(
    aiohttp_server: Callable[..., Awaitable[TestServer]], study_toml: str
) -> None:
    """Permuted blocks: 200 participants across 2 arms land exactly 100 and 100."""
    toml = study_toml + model_only_arms()
    async with start_woz(aiohttp_server, toml) as woz, woz.openai() as client:
        for batch in range(10):
            await asyncio.gather(
                *(ask(client, "hi", user=f"participant-{batch * 20 + i}") for i in range(20))
            )
        counts = await woz.store.arm_counts(woz.study.id)
        records = await woz.store.list_records(woz.study.id)
    assert counts == {"human-arm": 100, "model-arm": 100}
    assert sorted({r.arm for r in records}) == ["human-arm", "model-arm"]


async def test_random_assignment_is_reproducible_and_sticky(
    aiohttp_server: Callable[..., Awaitable[TestServer]], study_toml: str
) -> None:
    """The same seed and arrival order give the same arms in a fresh store; arms never change."""
    seen: list[list[str | None]] = []
    for _ in range(2):
        toml = study_toml + model_only_arms("random")
        async with start_woz(aiohttp_server, toml) as woz, woz.openai() as client:
            for i in range(30):
                await ask(client, "one", user=f"p{i}")
                await ask(client, "two", user=f"p{i}")
            records = await woz.store.list_records(woz.study.id)
        by_participant: dict[str, list[str | None]] = {}
        for record in records:  # in order of arrival
            by_participant.setdefault(record.participant or "", []).append(record.arm)
        assert all(len(set(arms_of)) == 1 for arms_of in by_participant.values())
        seen.append([arms_of[0] for arms_of in by_participant.values()])
    assert seen[0] == seen[1]
    assert set(seen[0]) == {"human-arm", "model-arm"}


async def test_operators_see_the_arm_only_when_the_study_says_so(
    aiohttp_server: Callable[..., Awaitable[TestServer]], study_toml: str
) -> None:
    """Blind by default; `reveal_to_operators = true` shows the arm in the task."""
    for reveal, expected in (("false", None), ("true", "human-arm")):
        toml = study_toml + arms(assignment="fixed", reveal=reveal)
        async with start_woz(aiohttp_server, toml) as woz, woz.openai(max_retries=0) as client:
            op = await woz.ready_operator()
            call = ask(client, "hi", user="ana", extra_headers={"X-Woz-Arm": "human-arm"})
            task = await op.next_task()
            assert task["arm"] == expected
            await op.reply(task["id"], "hello")
            await call
            with pytest.raises(openai.ConflictError):
                await client.chat.completions.create(
                    model="wizard",
                    messages=[{"role": "user", "content": "switch me"}],
                    user="ana",
                    extra_headers={"X-Woz-Arm": "model-arm"},
                )
            with pytest.raises(openai.BadRequestError, match="X-Woz-Arm"):
                await client.chat.completions.create(
                    model="wizard", messages=[{"role": "user", "content": "?"}], user="bob"
                )


async def test_report_arms_compares_the_arms(
    aiohttp_server: Callable[..., Awaitable[TestServer]], study_toml: str, tmp_path: Path
) -> None:
    """`woz report arms` gives per-arm figures as JSON and a chart as SVG."""
    settings = Settings(data=tmp_path / "data", keepalive_s=0.5, disconnect_poll_s=0.05)
    toml = study_toml + model_only_arms()
    async with start_woz(aiohttp_server, toml, settings) as woz, woz.openai() as client:
        for i in range(6):
            await ask(client, "hi", user=f"participant-{i}")
        data = ["--data", str(settings.data), "report", "arms", "--study", "test-study"]
        code, out, err = await run_woz(*data, "--format", "json")
        assert code == 0, err
        chart = tmp_path / "arms.svg"
        code, _, err = await run_woz(*data, "--format", "svg", "--out", str(chart))
        assert code == 0, err
        code, table, _ = await run_woz(*data)
    summaries = {s["arm"]: s for s in json.loads(out)}
    assert {arm: s["participants"] for arm, s in summaries.items()} == {
        "human-arm": 3,
        "model-arm": 3,
    }
    assert all(s["latency_p50_s"] is not None for s in summaries.values())
    assert ET.parse(chart).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    assert table.splitlines()[0].startswith("arm") and "model-arm" in table
