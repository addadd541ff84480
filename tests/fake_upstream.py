"""An upstream model played inside the tests: a small OpenAI-compatible aiohttp server.

What it says depends on the last user message: "fail" gives a 500, "hang" never
answers, a message about a "gift" gets DRAFT, anything else "Model answer to: ...".
It streams word by word when asked to. The bodies it received are in `app[REQUESTS]`.
`embeddings_app` is an upstream for embeddings.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

REQUESTS = web.AppKey("requests", list[dict[str, object]])
SEEN = web.AppKey("seen", list[dict[str, object]])
VECTOR = [0.25, -0.5, 1.0]
DRAFT = "The cashmere scarf from Loro Piana is a timeless gift."


async def fake_completions(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    request.app[REQUESTS].append(body)
    last = body["messages"][-1]["content"]
    if "fail" in last:
        return web.json_response({"error": {"message": "boom"}}, status=500)
    if "hang" in last:
        await asyncio.Event().wait()
    text = DRAFT if "gift" in last else f"Model answer to: {last}"
    if not body.get("stream"):
        return web.json_response(
            {
                "id": "chatcmpl-up",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
            }
        )
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for word in text.split(" "):
        chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    return response


@pytest.fixture
async def upstream(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    app = web.Application()
    app[REQUESTS] = []
    app.router.add_post("/v1/chat/completions", fake_completions)
    return await aiohttp_server(app)


async def fake_embeddings(request: web.Request) -> web.Response:
    body = await request.json()
    request.app[SEEN].append(body)
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    if "fail" in inputs:
        error = {"message": "Upstream says no.", "type": "invalid_request_error"}
        return web.json_response({"error": {**error, "param": "input", "code": None}}, status=400)
    packed = base64.b64encode(struct.pack("<3f", *VECTOR)).decode()
    embedding = packed if body.get("encoding_format") == "base64" else VECTOR
    return web.json_response(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": embedding}
                for i in range(len(inputs))
            ],
            "model": body["model"],
            "usage": {"prompt_tokens": 3, "total_tokens": 3},
        }
    )


def embeddings_app() -> web.Application:
    """An upstream for embeddings: a vector of three floats per input ("fail" is a 400);
    the bodies it received are in `app[SEEN]`."""
    app = web.Application()
    app[SEEN] = []
    app.router.add_post("/v1/embeddings", fake_embeddings)
    return app
