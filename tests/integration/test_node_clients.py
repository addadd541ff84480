"""The official `openai` package for Node against a live woz.

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


@pytest.fixture(autouse=True, scope="module")
def node_openai() -> None:
    """The official Node SDK from the npm registry, installed once if it is missing."""
    assert NODE is not None, "these tests need Node.js: `make test` installs Debian's nodejs"
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
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
        env={**os.environ, "WOZ_BASE_URL": woz.base_url, "WOZ_APP_KEY": woz.app_key, **env},
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
