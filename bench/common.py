"""Helpers shared by the bench's processes: ports, percentiles, /proc readings, the study."""

from __future__ import annotations

import json
import math
import os
import resource
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "bench-model"
LIVE_MODEL = "bench-live"  # a live persona: the operator's draft streams as it is typed
STUDY_ID = "bench"
BOT_ANSWER = "Hello from a bench bot."
HOST = "127.0.0.1"

# Answers are sent at once (no pacing), tasks never expire during the run, and the
# queue is deep enough for the memory scenario's 5,000 waiting requests.
STUDY_TOML = f"""
[study]
id = "{STUDY_ID}"
title = "woz benchmark"

[[personas]]
id = "{MODEL}"
display_name = "Bench model"

[[personas]]
id = "{LIVE_MODEL}"
display_name = "Bench live model"
live = true

[routing]
answer_timeout_s = 3600
queue_limit = 20000
reconnect_grace_s = 1

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards `wanted` (children inherit it).

    The hard limit is raised too where the process may (root, CAP_SYS_RESOURCE): the
    load process alone holds one socket per waiting request.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (ValueError, OSError):
            pass  # unprivileged: the hard limit stays
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100) of `values` by the nearest-rank method."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of latencies given in seconds, in milliseconds."""
    if not values:
        return {"p50": math.nan, "p90": math.nan, "p99": math.nan, "max": math.nan, "mean": 0.0}
    ordered = sorted(values)
    return {
        "p50": round(percentile(ordered, 50) * 1000, 2),
        "p90": round(percentile(ordered, 90) * 1000, 2),
        "p99": round(percentile(ordered, 99) * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(sum(ordered) / len(ordered) * 1000, 2),
    }


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of process `pid`, in bytes, from /proc."""
    out: dict[str, int] = {}
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            out[name] = int(value.split()[0]) * 1024  # reported in kB
    return out


def proc_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by process `pid` (its own threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far, summed over its CPUs (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    user, nice, system, _idle, _iowait, irq, softirq = fields
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    """User plus system CPU seconds used so far by this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def chat_body(text: str, *, stream: bool = False, model: str = MODEL) -> dict[str, Any]:
    """A minimal Chat Completions request for the bench model."""
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    return body


def sse_deltas(payload: bytes) -> str:
    """The text of every `choices[0].delta.content` in a Chat Completions SSE body."""
    text = []
    for line in payload.split(b"\n"):
        if not line.startswith(b"data: {"):
            continue
        choices = json.loads(line[6:]).get("choices") or [{}]
        text.append(choices[0].get("delta", {}).get("content") or "")
    return "".join(text)


def median(values: Sequence[float]) -> float:
    """The median of `values` (NaN when empty)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def mib(value: float) -> float:
    return round(value / (1024 * 1024), 1)
