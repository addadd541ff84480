"""How `woz studies reload` reaches running servers: SIGHUP, and a file per process.

A serving process (`woz serve`, `woz demo`) writes `<data>/run/<pid>.json` (its pid,
start time and studies) and removes it when it stops. SIGHUP makes it reload its study
files (`ServedStudies.reload`) and write what came of it to `<data>/run/<pid>.reload.json`
with a number one higher than the last. `woz studies reload` signals every live process
with a file in the data folder and waits for each one's new report, so the command
prints the same outcomes (and reasons for refusals) as the servers log. A plain
`kill -HUP <pid>` (or a process manager's reload) works too; its report lands in the
same file.

Only processes on this machine, started with this data folder, are reached; on other
machines send SIGHUP to each process (docs/studies.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from woz.context import SETTINGS, STUDIES
from woz.served import StudyReload

log = structlog.get_logger(__name__)


def run_folder(data: Path) -> Path:
    return data / "run"


def _write(path: Path, content: dict[str, Any]) -> None:
    """Whole or not at all: a reader never sees half a file."""
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(content), encoding="utf-8")
    partial.replace(path)


async def control_channel(app: web.Application) -> AsyncIterator[None]:
    """`cleanup_ctx` of a serving process: its run file, and SIGHUP to reload."""
    folder = run_folder(app[SETTINGS].data)
    folder.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    server_file = folder / f"{pid}.json"
    report_file = folder / f"{pid}.reload.json"
    started = datetime.now(UTC).isoformat()
    reloads: set[asyncio.Task[None]] = set()
    sequence = 0

    def describe() -> None:
        studies = [runtime.id for runtime in app[STUDIES]]
        _write(server_file, {"pid": pid, "started_at": started, "studies": studies})

    async def reload() -> None:
        nonlocal sequence
        report = await app[STUDIES].reload()
        sequence += 1
        outcomes = [asdict(entry) for entry in report]
        at = datetime.now(UTC).isoformat()
        _write(report_file, {"pid": pid, "seq": sequence, "at": at, "outcomes": outcomes})
        describe()

    def on_hangup() -> None:
        running = asyncio.create_task(reload())
        reloads.add(running)
        running.add_done_callback(reloads.discard)

    describe()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, on_hangup)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        if reloads:
            await asyncio.gather(*reloads, return_exceptions=True)
        for path in (server_file, report_file):
            path.unlink(missing_ok=True)


def running_servers(data: Path) -> list[dict[str, Any]]:
    """The live serving processes of this data folder (stale files are removed)."""
    servers = []
    for path in sorted(run_folder(data).glob("*.json")):
        if path.name.endswith(".reload.json"):
            continue
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            os.kill(int(info["pid"]), 0)
        except ProcessLookupError:
            path.unlink(missing_ok=True)  # a process that died without cleaning up
            continue
        except (OSError, ValueError, KeyError):
            continue
        servers.append(info)
    return servers


def _last_report(data: Path, pid: int) -> dict[str, Any] | None:
    try:
        report: dict[str, Any] = json.loads(
            (run_folder(data) / f"{pid}.reload.json").read_text(encoding="utf-8")
        )
    except (OSError, ValueError):
        return None
    return report


def reload_servers(data: Path, timeout_s: float = 30.0) -> dict[int, list[StudyReload] | None]:
    """Signal every live server of `data` to reload and wait for their reports (None for a
    process that did not report within `timeout_s`)."""
    before = {}
    for server in running_servers(data):
        pid = int(server["pid"])
        last = _last_report(data, pid)
        before[pid] = last["seq"] if last else 0
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGHUP)
    results: dict[int, list[StudyReload] | None] = {}
    deadline = time.monotonic() + timeout_s
    while len(results) < len(before) and time.monotonic() < deadline:
        for pid, seq in before.items():
            report = _last_report(data, pid)
            if pid not in results and report is not None and report["seq"] > seq:
                results[pid] = [
                    StudyReload(**{**entry, "reasons": tuple(entry["reasons"])})
                    for entry in report["outcomes"]
                ]
        time.sleep(0.05)  # a command-line poll of a file, not a test's synchronisation
    return {pid: results.get(pid) for pid in before}
