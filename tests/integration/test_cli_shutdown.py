"""`woz serve` stops at SIGTERM or Ctrl+C even while a thread is busy redacting a request."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import STUDY_TOML
from tests.integration.test_cli import WOZ, run

# Redacting this takes the recognisers tens of seconds: far longer than a stop may take.
BUSY_CONVERSATION = [
    {"role": "user", "content": "4111 " * 40_000} for _ in range(100)
]  # 20 MB of card-like digit groups, 200,000 characters a message


async def app_key(data: Path, study: Path) -> str:
    code, out, err = await run(
        "--data", str(data), "keys", "create", "--study", str(study), "--role", "app", "--json"
    )
    assert code == 0, err
    token: str = json.loads(out)["token"]
    return token


@pytest.mark.timeout(180)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl+C"])
async def test_the_server_stops_while_a_long_redaction_runs(
    tmp_path: Path, stop: signal.Signals
) -> None:
    """A stop signal ends the process promptly, not when the redaction thread is done."""
    study = tmp_path / "study.toml"
    study.write_text(STUDY_TOML + '\n[privacy]\nredact = ["payment_card", "phone"]\n')
    key = await app_key(tmp_path, study)
    process = await asyncio.create_subprocess_exec(
        *WOZ,
        "--data",
        str(tmp_path),
        "serve",
        "--study",
        str(study),
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    request: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(30):
            serving = (await process.stdout.readline()).decode()
        base = re.search(r"at (http://\S+/v1)", serving)
        assert base, serving
        request = asyncio.create_task(post_chat(base[1], key))
        async with asyncio.timeout(120):  # the 20 MB body on a busy machine
            while b'"redaction.in_thread"' not in await process.stderr.readline():
                pass
        process.send_signal(stop)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if request is not None:
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await request


async def post_chat(base: str, key: str) -> None:
    body = io.BytesIO(json.dumps({"model": "wizard", "messages": BUSY_CONVERSATION}).encode())
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/chat/completions",
            data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        ) as response,
    ):
        await response.read()
