"""Debian's nginx, configured as docs/deploy.md says, in front of two woz processes.

The `map` and `location /` blocks are read from the documentation itself, so the
configuration users copy is the one tested; the test wraps them in a plain-HTTP
server on a free port (TLS is nginx's own business) and an upstream of two
`woz serve` processes on PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from tests.conftest import live_then_reply
from tests.integration.woz_processes import Server, deployment, free_port
from woz.operators.client import OperatorClient

pytestmark = pytest.mark.timeout(180)
NGINX = Path("/usr/sbin/nginx")
DEPLOY_DOC = Path(__file__).parents[2] / "docs" / "deploy.md"


def documented_blocks() -> tuple[str, str]:
    """The `map` and `location /` blocks of the nginx configuration in docs/deploy.md."""
    doc = DEPLOY_DOC.read_text()
    config = re.search(r"```nginx\n(.*?)```", doc, re.S)
    assert config, "docs/deploy.md has no nginx configuration"
    text = config.group(1)
    mapping = re.search(r"^map .*?^}\n", text, re.S | re.M)
    location = re.search(r"^    location / \{.*?^    }\n", text, re.S | re.M)
    assert mapping and location, text
    return mapping.group(0), location.group(0)


def nginx_config(folder: Path, port: int, upstreams: list[Server]) -> str:
    mapping, location = documented_blocks()
    servers = "\n".join(f"    server {s.url.removeprefix('http://')};" for s in upstreams)
    temp = folder / "temp"
    return f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
daemon off;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{mapping}
    upstream woz {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 32m;
{location}
    }}
}}
"""


def prepare(folder: Path, port: int, upstreams: list[Server]) -> None:
    """Check nginx is there; write its configuration and temporary folder into `folder`."""
    assert NGINX.exists(), "nginx is missing: `make nginx-deps` installs Debian's package"
    (folder / "temp").mkdir()
    (folder / "nginx.conf").write_text(nginx_config(folder, port, upstreams))


@contextlib.asynccontextmanager
async def nginx(upstreams: list[Server]) -> AsyncIterator[str]:
    """nginx in the foreground on a free port; its base URL."""
    with tempfile.TemporaryDirectory(prefix="woz-nginx-") as name:
        folder = Path(name)
        port = free_port()
        prepare(folder, port, upstreams)
        process = await asyncio.create_subprocess_exec(
            str(NGINX), "-c", str(folder / "nginx.conf"), "-p", str(folder),
            "-e", str(folder / "error.log"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with asyncio.timeout(15):
                while True:  # until it listens (or says why it cannot)
                    if process.returncode is not None:
                        assert process.stderr is not None
                        raise AssertionError((await process.stderr.read()).decode())
                    with contextlib.suppress(OSError):
                        _, writer = await asyncio.open_connection("127.0.0.1", port)
                        writer.close()
                        break
                    await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGQUIT)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()


async def test_answers_stream_through_nginx_in_front_of_two_processes() -> None:
    """The SDK streams and an operator answers over the websocket, both through nginx,
    whichever process each connection reaches; live words arrive before the reply."""
    async with deployment() as woz:
        app, token = await woz.key("app"), await woz.key("operator", "Olive")
        upstreams = [await woz.start(), await woz.start()]
        async with (
            nginx(upstreams) as url,
            OperatorClient(url, token) as op,
            openai.AsyncOpenAI(base_url=url + "/v1", api_key=app, max_retries=0) as client,
        ):
            await op.ready(capacity=4)
            await op.expect("queue", operators_online=1)
            stream = await client.chat.completions.create(
                model="wizard-live", messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            task = await op.next_task()
            await op.typing(task["id"], "Through nginx ")
            seen = await live_then_reply(
                stream, "Through nginx", lambda: op.reply(task["id"], "Through nginx and back.")
            )
            assert seen == "Through nginx and back."

            async def ask(i: int) -> str:
                completion = await client.chat.completions.create(
                    model="wizard", messages=[{"role": "user", "content": f"Q{i}"}]
                )
                return completion.choices[0].message.content or ""

            waiting = [asyncio.create_task(ask(i)) for i in range(4)]
            for _ in waiting:
                task = await op.next_task()
                await op.reply(task["id"], task["messages"][-1]["content"][0]["text"] + "!")
            assert [await w for w in waiting] == [f"Q{i}!" for i in range(4)]
