"""`GET /v1/responses/{id}/input_items`: the items a stored response was given.

They are the conversation woz kept for the response: its history through
`previous_response_id` and its new input, as admitted (after the study's
redaction, so no more than its operator was shown), never its instructions.
An item's id is derived from the conversation, the item's place in it and the item
itself, so every call gives the same ids, and a turn that a follow-up carries over
has the same id in both responses' lists. Paginated as OpenAI's: `order` (`desc`, the default, or
`asc`), `limit` (1 to 100, default 20) and `after` (the id of the last item of the
previous page); `include` is accepted and ignored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from woz.api.openai.responses_stored import load_conversation, response_not_found
from woz.api.openai.responses_wire import call_item, message_item
from woz.errors import invalid_request
from woz.jsontext import json_response
from woz.models.task import ContentPart, Message

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


async def list_input_items(request: web.Request) -> web.StreamResponse:
    response_id = request.match_info["response_id"]
    order, limit, after = _page_params(request)
    stored = await load_conversation(request, response_id)
    if stored is None:
        raise response_not_found(response_id)
    given = stored.messages[:-1] if stored.answered else stored.messages
    items = input_items(stored.conversation_id or response_id, given)
    if order == "desc":
        items.reverse()
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        if after not in ids:
            raise invalid_request(
                f"'after' {after!r} is not an input item of response '{response_id}'.",
                param="after",
            )
        start = ids.index(after) + 1
    page = items[start : start + limit]
    return json_response(
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else "",
            "last_id": page[-1]["id"] if page else "",
            "has_more": start + limit < len(items),
        }
    )


def _page_params(request: web.Request) -> tuple[str, int, str | None]:
    order = request.query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_request("'order' must be 'asc' or 'desc'.", param="order")
    raw_limit = request.query.get("limit", str(DEFAULT_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise invalid_request(f"'limit' must be an integer from 1 to {MAX_LIMIT}.", param="limit")
    return order, int(raw_limit), request.query.get("after")


def input_items(conversation: str, messages: list[Message]) -> list[dict[str, Any]]:
    """`messages` as Responses API items, oldest first: a message item per turn (the
    assistant's text as output text), a function call per tool call, a function call
    output per tool result."""
    items: list[dict[str, Any]] = []
    for place, message in enumerate(messages):
        key = f"{conversation}:{place}:{message.model_dump_json()}"
        if message.role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "id": _item_id("fco_", key),
                    "call_id": message.tool_call_id or "",
                    "output": message.text(),
                    "status": "completed",
                }
            )
        elif message.role == "assistant":
            if message.content:
                items.append(message_item(_item_id("msg_", key), message.text(), "completed"))
            items.extend(
                call_item(call, _item_id("fc_", f"{key}:{n}"), call.arguments, "completed")
                for n, call in enumerate(message.tool_calls)
            )
        else:
            items.append(
                {
                    "type": "message",
                    "id": _item_id("msg_", key),
                    "role": message.role,
                    "status": "completed",
                    "content": [_input_part(part) for part in message.content],
                }
            )
    return items


def _input_part(part: ContentPart) -> dict[str, Any]:
    if part.type == "text":
        return {"type": "input_text", "text": part.text or ""}
    if part.type == "image":
        return {"type": "input_image", "image_url": part.url, "detail": "auto"}
    url = part.url or ""
    where = "file_data" if url.startswith("data:") else "file_url"
    return {"type": "input_file", where: url, "filename": part.text}


def _item_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:48]
