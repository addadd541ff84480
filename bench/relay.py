"""The reference: a bare aiohttp HTTP-to-websocket relay with no storage.

`POST /v1/chat/completions` parses the JSON body, forwards its messages to the
least busy connected bot as a `task.assigned` frame, waits for the bot's
`reply`, acknowledges it with `reply.ack` and returns a minimal
`chat.completion` (or, with `stream: true`, the role chunk at once and then the
answer, a finish chunk and `data: [DONE]` as server-sent events). No
authentication, validation, queueing, records or logging: this is the floor any
HTTP-to-websocket relay in Python pays, so woz's share of its throughput says
what woz's own work costs.

Run as `python -m bench.relay --port N` (from the repository root).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

ANSWER_TIMEOUT_S = 60.0


@dataclass(eq=False)
class _Bot:
    ws: web.WebSocketResponse
    capacity: int = 1
    in_flight: set[str] = field(default_factory=set)


class Relay:
    """Connected bots and the requests waiting for their answers."""

    def __init__(self) -> None:
        self.bots: list[_Bot] = []
        self.pending: dict[str, asyncio.Future[str]] = {}
        self.ids = itertools.count(1)

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = json.loads(await request.read())
        if not self.bots:
            return web.json_response({"error": {"message": "no bot connected"}}, status=503)
        bot = min(self.bots, key=lambda b: len(b.in_flight) / b.capacity)
        task_id = f"task_{next(self.ids)}"
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.pending[task_id] = answer
        bot.in_flight.add(task_id)
        stream: web.StreamResponse | None = None
        created = int(time.time())
        model = body.get("model", "")
        try:
            if body.get("stream"):
                # Headers and the role chunk at once, as a streaming API does.
                stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
                await stream.prepare(request)
                await stream.write(_chunk(task_id, created, model, {"role": "assistant"}))
            frame = {"type": "task.assigned", "task": {"id": task_id, "messages": body["messages"]}}
            await bot.ws.send_str(json.dumps(frame, separators=(",", ":")))
            async with asyncio.timeout(ANSWER_TIMEOUT_S):
                content = await answer
        finally:
            self.pending.pop(task_id, None)
            bot.in_flight.discard(task_id)
        if stream is not None:
            await stream.write(_chunk(task_id, created, model, {"content": content}))
            await stream.write(_chunk(task_id, created, model, {}, "stop"))
            await stream.write(b"data: [DONE]\n\n")
            await stream.write_eof()
            return stream
        return web.json_response(
            {
                "id": f"chatcmpl-{task_id}",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    async def operator_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        bot = _Bot(ws)
        await ws.send_str(json.dumps({"type": "hello", "protocol": 1}))
        self.bots.append(bot)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                if frame.get("type") == "ready":
                    bot.capacity = max(1, int(frame.get("capacity", 1)))
                elif frame.get("type") == "reply":
                    task_id = frame["task_id"]
                    answer = self.pending.get(task_id)
                    if answer is not None and not answer.done():
                        answer.set_result(frame.get("content") or "")
                    ack = {"type": "reply.ack", "task_id": task_id, "record_id": task_id}
                    await ws.send_str(json.dumps(ack, separators=(",", ":")))
        finally:
            self.bots.remove(bot)
        return ws


def _chunk(
    task_id: str, created: int, model: str, delta: dict[str, Any], finish: str | None = None
) -> bytes:
    """One `chat.completion.chunk` server-sent event."""
    chunk = {
        "id": f"chatcmpl-{task_id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def create_app() -> web.Application:
    relay = Relay()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", relay.chat_completions)
    app.router.add_get("/operator/ws", relay.operator_socket)
    app.router.add_get("/health", health)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(create_app(), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"relay listening on http://{host}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
