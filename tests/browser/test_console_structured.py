"""Structured outputs and tool calls, answered through forms generated from schemas."""

from __future__ import annotations

import asyncio
import json
from enum import StrEnum

import openai
import pytest
from openai.types.chat import ChatCompletionToolParam
from playwright.async_api import expect
from pydantic import BaseModel, Field

from tests.browser.conftest import Console, finish
from tests.conftest import ask

pytestmark = pytest.mark.browser


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class Dimensions(BaseModel):
    width_cm: float
    length_cm: float


class GiftIdea(BaseModel):
    product: str = Field(description="What to buy, as the shop names it")
    size: Size
    price: float
    gift_wrap: bool
    tags: list[str]
    dimensions: Dimensions
    quantity: int


WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
SEARCH_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "search_catalog",
        "description": "Search the shop's catalog.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}, "in_stock": {"type": "boolean"}},
            "required": ["query", "in_stock"],
        },
    },
}


async def test_json_schema_form_fills_a_parsed_pydantic_object(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """The form validates before sending; .parse() returns exactly what was filled in."""
    page = console.page
    await console.login()
    await console.ready()
    call = asyncio.create_task(
        openai_client.chat.completions.parse(
            model="wizard",
            messages=[{"role": "user", "content": "A gift for my aunt?"}],
            response_format=GiftIdea,
        )
    )
    await console.task_shown("A gift for my aunt?")
    await expect(console.field("product")).to_be_focused()
    await expect(console.view.locator(".field-hint").first).to_contain_text("What to buy")
    # Sending an empty form shows what is missing, next to each field.
    await page.keyboard.press("Enter")
    product_row = console.view.locator('.field:has([data-path="product"])')
    await expect(product_row.locator(".field-error")).to_have_text("is required")
    await expect(console.view.locator(".form-summary").first).to_contain_text("problems to fix")
    size_row = console.view.locator('.field:has([data-path="size"])')
    await expect(size_row.locator(".field-error")).to_have_text("choose one")
    assert not call.done()

    await console.field("product").fill("Cashmere scarf")
    await expect(product_row.locator(".field-error")).to_be_hidden()
    await console.field("size").select_option(label="medium")
    await console.field("price").fill("129.5")
    await console.field("gift_wrap").check()
    for i, tag in enumerate(["winter", "soft"]):
        await console.view.locator('button[data-path="tags"]').click()
        await console.field(f"tags[{i}]").fill(tag)
    await console.field("dimensions.width_cm").fill("30")
    await console.field("dimensions.length_cm").fill("180")
    await console.field("quantity").fill("2.5")
    await page.keyboard.press("Enter")
    quantity_row = console.view.locator('.field:has([data-path="quantity"])')
    await expect(quantity_row.locator(".field-error")).to_have_text("must be a whole number")
    await console.field("quantity").fill("2")

    # The raw JSON editor shows the same value, and back again.
    await page.keyboard.press("Alt+j")
    raw = console.view.locator(".raw-json")
    await expect(raw).to_be_focused()
    assert json.loads(await raw.input_value())["tags"] == ["winter", "soft"]
    await page.keyboard.press("Alt+j")
    await expect(console.field("product")).to_have_value("Cashmere scarf")

    await console.view.locator("button.send").click()
    completion = await finish(call)
    assert completion.choices[0].message.parsed == GiftIdea(
        product="Cashmere scarf",
        size=Size.MEDIUM,
        price=129.5,
        gift_wrap=True,
        tags=["winter", "soft"],
        dimensions=Dimensions(width_cm=30, length_cm=180),
        quantity=2,
    )


async def test_json_object_is_answered_in_the_raw_editor(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """json_object: raw JSON, refused locally until it is an object."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "JSON please", response_format={"type": "json_object"})
    await console.task_shown("JSON please")
    raw = console.view.locator(".raw-json")
    await expect(raw).to_be_focused()
    await page.keyboard.type("[1, 2]")
    await page.keyboard.press("Control+Enter")
    await expect(console.view.locator(".form-summary")).to_contain_text("must be a JSON object")
    await raw.fill('{"ok": true}')
    await page.keyboard.press("Control+Enter")
    completion = await finish(call)
    assert json.loads(completion.choices[0].message.content or "") == {"ok": True}


async def test_operator_answers_with_a_tool_call(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """Alt+T, pick a tool, fill its arguments form: the SDK gets that tool call."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(openai_client, "Weather in Paris?", tools=[WEATHER_TOOL, SEARCH_TOOL])
    await console.task_shown("Weather in Paris?")
    await expect(console.view.locator(".tool-specs")).to_have_count(0)  # aside is separate
    await expect(page.locator(".aside .tool-specs")).to_contain_text("get_weather")
    await page.keyboard.press("Alt+t")
    tool_select = console.view.locator(".tool-select")
    await expect(tool_select).to_be_focused()
    await tool_select.select_option("get_weather")
    await expect(console.field("city")).to_be_focused()
    await page.keyboard.type("Paris")
    await console.field("unit").select_option("celsius")
    await console.field("city").press("Enter")
    completion = await finish(call)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None and len(choice.message.tool_calls) == 1
    tool_call = choice.message.tool_calls[0]
    assert tool_call.type == "function"
    assert tool_call.function.name == "get_weather"
    assert json.loads(tool_call.function.arguments) == {"city": "Paris", "unit": "celsius"}


async def test_required_tool_choice_without_parallel_calls(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """tool_choice required disables the text answer; parallel_tool_calls=false allows one call."""
    page = console.page
    await console.login()
    await console.ready()
    call = ask(
        openai_client,
        "Find me gloves",
        tools=[WEATHER_TOOL, SEARCH_TOOL],
        tool_choice="required",
        parallel_tool_calls=False,
    )
    await console.task_shown("Find me gloves")
    await expect(console.view.locator('.mode-tab[data-mode="text"]')).to_be_disabled()
    await expect(console.view.locator(".pane-tools")).to_be_visible()
    await expect(console.view.locator(".pane-tools")).to_contain_text("One call at most")
    await expect(
        console.view.locator(".pane-tools button", has_text="Add tool call")
    ).to_be_hidden()
    await console.view.locator(".tool-select").select_option("search_catalog")
    await console.field("query").fill("leather gloves")
    await console.field("in_stock").check()
    await page.keyboard.press("Control+Enter")
    completion = await finish(call)
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None and len(tool_calls) == 1
    assert tool_calls[0].type == "function"
    assert tool_calls[0].function.name == "search_catalog"
    assert json.loads(tool_calls[0].function.arguments) == {
        "query": "leather gloves",
        "in_stock": True,
    }


async def test_server_rejection_is_shown_with_its_reason(
    console: Console, openai_client: openai.AsyncOpenAI
) -> None:
    """A reply the server refuses is shown in the composer with its reason, and can be fixed."""
    page = console.page
    await console.login()
    await console.ready()
    # The console checks common keywords itself; `not` is left to the server's validator.
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "maxLength": 5, "not": {"const": "nope"}}},
        "required": ["code"],
        "additionalProperties": False,
    }
    call = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard",
            messages=[{"role": "user", "content": "Code?"}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "code", "schema": schema, "strict": True},
            },
        )
    )
    await console.task_shown("Code?")
    await console.field("code").fill("toolong")
    await page.keyboard.press("Enter")
    code_row = console.view.locator('.field:has([data-path="code"])')
    await expect(code_row.locator(".field-error")).to_have_text("allows at most 5 characters")
    await console.field("code").fill("nope")
    await page.keyboard.press("Enter")
    status = console.view.locator(".composer-status")
    await expect(status).to_contain_text("Not sent")
    await expect(status).to_contain_text("schema_violation")
    await console.field("code").fill("yes")
    await expect(status).to_be_empty()
    await page.keyboard.press("Enter")
    completion = await finish(call)
    assert json.loads(completion.choices[0].message.content or "") == {"code": "yes"}
