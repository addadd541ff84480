"""Node clients against a live woz: the official `openai` and `@anthropic-ai/sdk`
packages, and the Vercel AI SDK (`ai` with its OpenAI and Anthropic providers).

Each script in `tests/node/` runs under the machine's Node.js as a subprocess, with
the base URL and app key in its environment, while a scripted operator answers; it
prints its result as one JSON line. `make test` installs the scripts' dependencies
(`npm ci --prefix tests/node`); without Node.js or them, these tests are skipped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Woz
from tests.integration.test_audio_transcriptions import wav_bytes

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE = shutil.which("node")


PACKAGES = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]


@pytest.fixture(autouse=True, scope="module")
def node_packages() -> None:
    """The scripts' packages from the npm registry, installed once if any is missing."""
    assert NODE is not None, "these tests need Node.js: `make test` installs Debian's nodejs"
    if not all((NODE_DIR / "node_modules" / name).is_dir() for name in PACKAGES):
        npm = shutil.which("npm")
        assert npm is not None, "these tests need npm: `make test` installs Debian's npm"
        subprocess.run([npm, "ci", "--prefix", str(NODE_DIR)], check=True, timeout=600)


async def start(woz: Woz, script: str, **env: str) -> asyncio.subprocess.Process:
    """Run `tests/node/<script>` against `woz`."""
    assert NODE is not None
    return await asyncio.create_subprocess_exec(
        NODE,
        str(NODE_DIR / script),
        cwd=NODE_DIR,
        env={
            **os.environ,
            "WOZ_URL": woz.url,
            "WOZ_BASE_URL": woz.base_url,
            "WOZ_APP_KEY": woz.app_key,
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def result_of(process: asyncio.subprocess.Process) -> Any:
    """The JSON line the script printed; its stderr in the failure if it failed."""
    async with asyncio.timeout(30):
        stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout.decode().strip().splitlines()[-1])


async def test_streamed_chat_completion_with_tool_calls(woz: Woz) -> None:
    """The stream helper's final completion has both calls, each id and name exactly once."""
    op = await woz.online_operator()
    process = await start(woz, "chat_tool_stream.mjs")
    task = await op.next_task()
    assert [tool["name"] for tool in task["tools"]] == ["get_weather", "get_time"]
    calls = [
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
        {"name": "get_time", "arguments": {"city": "Oslo"}},
    ]
    await op.reply(task["id"], tool_calls=calls)
    result = await result_of(process)
    assert result["finish_reason"] == "tool_calls"
    assert [(c["type"], c["name"], c["arguments"]) for c in result["tool_calls"]] == [
        ("function", "get_weather", {"city": "Oslo"}),
        ("function", "get_time", {"city": "Oslo"}),
    ]
    ids = [c["id"] for c in result["tool_calls"]]
    assert len(set(ids)) == 2 and all(i.startswith("call_") and len(i) < 40 for i in ids)
    assert result["arguments_done"] == ["get_weather", "get_time"]
    assert result["usage"]["total_tokens"] > 0


async def test_responses_stream(woz: Woz) -> None:
    """The Responses stream helper sees created first, completed last, and the whole text."""
    op = await woz.online_operator()
    process = await start(woz, "responses_stream.mjs")
    task = await op.next_task()
    assert task["messages"][0]["role"] == "system"
    text = "The grey cashmere one, it goes with everything."
    await op.reply(task["id"], text)
    result = await result_of(process)
    assert result["status"] == "completed"
    assert result["output_text"] == result["streamed_text"] == text
    assert (result["first"], result["last"]) == ("response.created", "response.completed")
    assert result["usage"]["output_tokens"] > 0


async def test_transcription_upload(woz: Woz) -> None:
    """Node's fetch sends the multipart upload; verbose_json parses with its duration."""
    op = await woz.online_operator()
    audio = base64.b64encode(wav_bytes(seconds=1.0)).decode()
    process = await start(woz, "transcription.mjs", WOZ_AUDIO_BASE64=audio)
    task = await op.next_task()
    assert task["messages"][-1]["content"][0]["media_type"] == "audio/wav"
    await op.reply(task["id"], "Hello. Goodbye.")
    result = await result_of(process)
    assert result == {"text": "Hello. Goodbye.", "duration": 1.0, "segments": 2}


@pytest.mark.parametrize(
    ("provider", "api"),
    [
        ("responses", "openai.responses"),
        ("chat", "openai.chat_completions"),
        ("anthropic", "anthropic.messages"),
    ],
)
async def test_vercel_ai_sdk_streams_text_and_calls_a_tool(
    woz: Woz, provider: str, api: str
) -> None:
    """streamText gets the whole answer with its usage; generateText gets the tool call."""
    op = await woz.online_operator()
    process = await start(woz, "vercel_ai.mjs", WOZ_PROVIDER=provider)
    task = await op.next_task()
    assert task["api"] == api
    assert task["messages"][0]["content"][0]["text"] == "Be brief."
    text = "The grey cashmere one; it goes with everything."
    await op.reply(task["id"], text)
    task = await op.next_task()
    assert [tool["name"] for tool in task["tools"]] == ["get_weather"]
    await op.reply(task["id"], tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}])
    result = await result_of(process)
    assert result["errors"] == []
    assert result["text"] == text and result["finish_reason"] == "stop"
    usage = result["usage"]
    assert usage["inputTokens"] > 0 and usage["outputTokens"] > 0
    assert result["tool_calls"] == [{"name": "get_weather", "input": {"city": "Oslo"}}]
    assert result["tool_finish_reason"] == "tool-calls"


async def test_anthropic_sdk_streams_text_and_a_tool_use(woz: Woz) -> None:
    """A wrong key is an AuthenticationError; the final message has both blocks."""
    op = await woz.online_operator()
    process = await start(woz, "anthropic_stream.mjs")
    task = await op.next_task()
    assert task["api"] == "anthropic.messages"
    await op.reply(
        task["id"],
        "Let me check.",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}],
    )
    result = await result_of(process)
    assert result["refused"] == {
        "name": "AuthenticationError",
        "status": 401,
        "type": "authentication_error",
    }
    assert result["text"] == "Let me check."
    assert (result["first"], result["last"]) == ("message_start", "message_stop")
    assert result["stop_reason"] == "tool_use"
    text_block, tool_block = result["content"]
    assert text_block == {"type": "text", "text": "Let me check."}
    assert tool_block["type"] == "tool_use" and tool_block["name"] == "get_weather"
    assert tool_block["input"] == {"city": "Oslo"} and tool_block["id"].startswith("toolu_")
    assert result["usage"]["output_tokens"] > 0
