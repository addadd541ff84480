"""`POST /v1/moderations`: OpenAI's moderation endpoint, answered as the study says.

`[moderation] mode = "auto"` (the default) answers at once with every category
false and every score 0.0: woz judges nothing, and records nothing. In `"human"`
mode the input goes to an operator as a task whose `response_format` is a JSON
schema of one boolean per category (a checkbox each in the console; one group of
them per input when the app sent a list of strings); the reply is validated
against it like any structured answer, and a ticked category is flagged with a
score of 1.0.

`input` is a string, a list of strings (one result each), or a list of
multimodal parts (`text`, `image_url`; one result). `model` may be omitted or be
any moderation model's name: it is echoed back, never looked up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from woz.api.core.exchange import NonStreamingExchange
from woz.api.core.fields import obj, parse_body
from woz.api.core.intake import intake, read_json
from woz.api.core.message_limit import check_message
from woz.api.openai.wire import image_part
from woz.context import SETTINGS, runtime_of
from woz.dispatch.base import TaskHandle
from woz.errors import invalid_request
from woz.models.task import Answer, ContentPart, Message, ResponseFormat, Task, new_id

DEFAULT_MODEL = "omni-moderation-latest"

# Every category of the SDK's `Moderation` model, with what an operator is asked.
CATEGORIES = {
    "harassment": "Harassing language towards any target",
    "harassment/threatening": "Harassment that also threatens violence or serious harm",
    "hate": "Hate based on a protected attribute (race, gender, religion, ...)",
    "hate/threatening": "Hate that also threatens violence or serious harm",
    "illicit": "Advice or instructions for wrongdoing",
    "illicit/violent": "Advice for violent wrongdoing, or for getting weapons",
    "self-harm": "Promotes, encourages or depicts self-harm",
    "self-harm/instructions": "Instructions or encouragement to self-harm",
    "self-harm/intent": "The speaker is self-harming or intends to",
    "sexual": "Sexual content meant to arouse, or sexual services",
    "sexual/minors": "Sexual content involving anyone under 18",
    "violence": "Depicts death, violence or physical injury",
    "violence/graphic": "Depicts death, violence or injury in graphic detail",
}
# The categories OpenAI also scores on images; the rest apply to text only.
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/instructions",
        "self-harm/intent",
        "sexual",
        "violence",
        "violence/graphic",
    }
)


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: str | list[str | dict[str, Any]]
    model: str | None = None


@dataclass(frozen=True)
class _Item:
    """One thing to moderate, giving one result: its parts, text and images."""

    parts: list[ContentPart]

    def input_types(self, category: str) -> list[str]:
        kinds = {part.type for part in self.parts}
        types = ["text"] if "text" in kinds else []
        if "image" in kinds and category in IMAGE_CATEGORIES:
            types.append("image")
        return types


async def create_moderation(request: web.Request) -> web.StreamResponse:
    body, raw = await read_json(request)
    wire = parse_body(ModerationRequest, body)
    items = _items(wire.input)
    max_chars = request.app[SETTINGS].max_message_chars
    for index, item in enumerate(items):
        # Each string of a list of strings is a message of its own; parts make one.
        param = f"input[{index}]" if len(items) > 1 else "input"
        check_message([Message(role="user", content=item.parts)], param, max_chars)
    model = wire.model or DEFAULT_MODEL
    study = runtime_of(request).study
    if study.moderation.mode == "auto":
        return web.json_response(moderation_body(model, items, [{} for _ in items]))
    facts = intake(request, raw, None)
    task = Task(
        study_id=study.id,
        persona=study.moderation.persona or study.personas[0].id,
        api="openai.moderations",
        messages=[Message(role="user", content=item.parts) for item in items],
        response_format=ResponseFormat(
            type="json_schema",
            name="moderation",
            json_schema=verdict_schema(len(items)),
            strict=True,
        ),
        request={k: v for k, v in body.items() if k != "input"},
        **facts.task_fields(),
    )
    handle = await runtime_of(request).dispatcher.submit(task)
    return await _Verdict(request, handle, model, items).run()


def _items(value: str | list[str | dict[str, Any]]) -> list[_Item]:
    if isinstance(value, str):
        return [_Item([ContentPart(type="text", text=value)])]
    if not value:
        raise invalid_request("'input' must not be empty.", param="input")
    if all(isinstance(entry, str) for entry in value):
        return [_Item([ContentPart(type="text", text=str(entry))]) for entry in value]
    if any(isinstance(entry, str) for entry in value):
        raise invalid_request(
            "'input' is a list of strings or a list of parts, not both.", param="input"
        )
    parts: list[ContentPart] = []
    for i, entry in enumerate(value):
        assert isinstance(entry, dict)
        where = f"input[{i}]"
        if entry.get("type") == "text" and isinstance(entry.get("text"), str):
            parts.append(ContentPart(type="text", text=entry["text"]))
        elif entry.get("type") == "image_url":
            image = obj(entry.get("image_url"), f"{where}.image_url")
            parts.append(image_part(image.get("url"), f"{where}.image_url.url"))
        else:
            raise invalid_request(
                f"'{where}' must be a text part or an image_url part.", param=where
            )
    return [_Item(parts)]


def _categories_schema(description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"type": "boolean", "title": name, "description": question}
            for name, question in CATEGORIES.items()
        },
        "required": list(CATEGORIES),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def verdict_schema(count: int) -> dict[str, Any]:
    """One boolean per category; for several inputs, one such object per input."""
    if count == 1:
        return _categories_schema("Tick every category the input falls into.")
    keys = [f"input_{n}" for n in range(1, count + 1)]
    return {
        "type": "object",
        "description": "For each input (message), tick every category it falls into.",
        "properties": {
            key: _categories_schema(f"Message {n}") for n, key in enumerate(keys, start=1)
        },
        "required": keys,
        "additionalProperties": False,
    }


def verdicts_of(answer: Answer, count: int) -> list[dict[str, Any]]:
    """The ticked categories per input. A reply that is not a verdict (a study's
    fallback text after a timeout) ticks nothing, like auto mode."""
    try:
        value = json.loads(answer.content or "")
    except json.JSONDecodeError:
        return [{} for _ in range(count)]
    if not isinstance(value, dict):
        return [{} for _ in range(count)]
    if count == 1:
        return [value]
    return [value.get(f"input_{n}") or {} for n in range(1, count + 1)]


def moderation_body(
    model: str, items: list[_Item], verdicts: list[dict[str, Any]]
) -> dict[str, Any]:
    """The response: one result per input, with every category the SDK's model has."""
    results = []
    for item, verdict in zip(items, verdicts, strict=True):
        ticked = {name: verdict.get(name) is True for name in CATEGORIES}
        results.append(
            {
                "flagged": any(ticked.values()),
                "categories": ticked,
                "category_scores": {name: 1.0 if on else 0.0 for name, on in ticked.items()},
                "category_applied_input_types": {
                    name: item.input_types(name) for name in CATEGORIES
                },
            }
        )
    return {"id": new_id("modr-", 12), "model": model, "results": results}


class _Verdict(NonStreamingExchange):
    """An operator's moderation verdict; the lifecycle is `Exchange`'s."""

    def __init__(
        self, request: web.Request, handle: TaskHandle, model: str, items: list[_Item]
    ) -> None:
        super().__init__(request, handle)
        self.model = model
        self.items = items

    def body(self, answer: Answer) -> dict[str, Any]:
        return moderation_body(self.model, self.items, verdicts_of(answer, len(self.items)))
