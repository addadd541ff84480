"""Moderation: answered at once with nothing flagged, or judged by an operator's checkboxes."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from openai.types import Moderation

from tests.conftest import STUDY_TOML, Woz

HUMAN = STUDY_TOML + '\n[moderation]\nmode = "human"\npersona = "wizard"\n'
PIXEL = "data:image/png;base64,iVBORw0KGgo="


def sdk_categories() -> list[str]:
    """Every category key of the SDK's `Moderation` model, as it names them on the wire."""
    fields = Moderation.model_fields["categories"].annotation.model_fields  # type: ignore[union-attr]
    return sorted(field.alias or name for name, field in fields.items())


def nothing_ticked() -> dict[str, bool]:
    return dict.fromkeys(sdk_categories(), False)


async def test_auto_mode_flags_nothing_with_every_category(
    openai_client: openai.AsyncOpenAI,
) -> None:
    """By default: one result per string, every SDK category false with score 0.0."""
    result = await openai_client.moderations.create(input=["first", "second"])
    assert result.id.startswith("modr-") and result.model == "omni-moderation-latest"
    assert len(result.results) == 2
    raw = result.model_dump(by_alias=True)["results"][0]
    assert sorted(raw["categories"]) == sdk_categories()
    assert sorted(raw["category_scores"]) == sdk_categories()
    assert sorted(raw["category_applied_input_types"]) == sdk_categories()
    assert not any(raw["categories"].values()) and not any(raw["category_scores"].values())
    assert raw["flagged"] is False
    assert raw["category_applied_input_types"]["violence"] == ["text"]


async def test_any_model_name_is_echoed_and_images_count(
    openai_client: openai.AsyncOpenAI,
) -> None:
    """`omni-moderation-latest` is not a 404; multimodal input gives one result with image types."""
    result = await openai_client.moderations.create(
        model="omni-moderation-latest",
        input=[
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
        ],
    )
    assert result.model == "omni-moderation-latest" and len(result.results) == 1
    applied = result.results[0].model_dump(by_alias=True)["category_applied_input_types"]
    assert applied["violence"] == ["text", "image"] and applied["hate"] == ["text"]


@pytest.mark.parametrize(
    "bad",
    [[], ["text", {"type": "text", "text": "x"}], [{"type": "audio"}], 7],
)
async def test_bad_input_is_a_400_on_input(openai_client: openai.AsyncOpenAI, bad: Any) -> None:
    """Empty, mixed or unknown inputs are refused naming the field."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.moderations.create(input=bad)
    assert (caught.value.param or "").startswith("input")


@pytest.mark.parametrize("study_toml", [HUMAN], indirect=True)
async def test_human_mode_asks_an_operator_with_a_checkbox_schema(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The operator gets one boolean per category; a ticked one is flagged with score 1.0."""
    op = await woz.online_operator()
    call = asyncio.create_task(openai_client.moderations.create(input="you are awful"))
    task = await op.next_task()
    assert task["api"] == "openai.moderations" and task["persona"] == "wizard"
    schema = task["response_format"]["json_schema"]
    assert task["response_format"]["type"] == "json_schema"
    assert sorted(schema["properties"]) == sdk_categories()
    assert {p["type"] for p in schema["properties"].values()} == {"boolean"}
    rejected = await op.reply(task["id"], json.dumps({"harassment": True}))
    assert rejected["type"] == "reply.rejected"
    assert rejected["error"]["code"] == "schema_violation"
    ack = await op.reply(task["id"], json.dumps({**nothing_ticked(), "harassment": True}))
    assert ack["type"] == "reply.ack"
    [result] = (await call).results
    assert result.flagged and result.categories.harassment
    assert result.category_scores.harassment == 1.0 and result.category_scores.hate == 0.0
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.api == "openai.moderations"
    assert record.messages[0].text() == "you are awful" and record.status == "delivered"


@pytest.mark.parametrize("study_toml", [HUMAN], indirect=True)
async def test_human_mode_judges_each_string_of_a_list(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A list of strings is one task with a group of checkboxes per input, one result each."""
    op = await woz.online_operator()
    call = asyncio.create_task(openai_client.moderations.create(input=["hi", "I will hurt you"]))
    task = await op.next_task()
    assert [m["content"][0]["text"] for m in task["messages"]] == ["hi", "I will hurt you"]
    assert sorted(task["response_format"]["json_schema"]["properties"]) == ["input_1", "input_2"]
    verdict = {"input_1": nothing_ticked(), "input_2": {**nothing_ticked(), "violence": True}}
    await op.reply(task["id"], json.dumps(verdict))
    first, second = (await call).results
    assert not first.flagged and second.flagged and second.categories.violence
