"""`GET /v1/models` and `/v1/models/{id}`: the study's personas, as models.

OpenAI clients get OpenAI's list shape; clients that send `anthropic-version`
get Anthropic's. Ids may contain `/`, which arrives percent-encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from woz.api.core.errors import dialect_of
from woz.api.core.intake import find_persona
from woz.context import runtime_of
from woz.models.study import Persona

# A fixed creation time: personas have no release date, and a stable value
# keeps responses identical across restarts.
CREATED = 1_700_000_000
CREATED_AT = "2023-11-14T22:13:20Z"


def _openai(persona: Persona) -> dict[str, Any]:
    return {"id": persona.id, "object": "model", "created": CREATED, "owned_by": "woz"}


def _anthropic(persona: Persona) -> dict[str, Any]:
    return {
        "type": "model",
        "id": persona.id,
        "display_name": persona.display_name or persona.id,
        "created_at": CREATED_AT,
    }


async def list_models(request: web.Request) -> web.Response:
    personas = runtime_of(request).study.personas
    if dialect_of(request) == "anthropic":
        data = [_anthropic(p) for p in personas]
        return web.json_response(
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        )
    return web.json_response({"object": "list", "data": [_openai(p) for p in personas]})


async def retrieve_model(request: web.Request) -> web.Response:
    persona = find_persona(request, unquote(request.match_info["model"]))
    shape = _anthropic if dialect_of(request) == "anthropic" else _openai
    return web.json_response(shape(persona))
