"""The woz benchmark (`make bench`): woz against a bare relay, and woz with 20,000 waiting.

In one run and one process tree:

1. a temporary data folder gets a bench study and keys (`woz keys create --json`);
2. woz (`woz serve`, SQLite store on, `synchronous=FULL`) and the bare relay
   (`bench/relay.py`) start as subprocesses; readiness is polled, not slept on;
3. a separate load process (`bench/load.py`) runs bot operators over real
   websockets and 100 concurrent API clients against each server in turn,
   non-streaming then streaming, rounds alternating between the two servers;
   then 50 live streams into which a bot types, word by word;
4. a fresh woz holds 20,000 requests waiting for a human while its RSS is
   read and a probe operator checks it is still served promptly;
5. the figures are printed with each target met or not, and saved as JSON to
   `bench-results/latest.json`.

A missed target is reported, not fatal: this is a measurement, not a test. The
exit status is non-zero only when the bench itself could not run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/run.py`: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    HOST,
    ROOT,
    STUDY_TOML,
    free_port,
    latency_ms,
    machine_cpu_seconds,
    median,
    proc_memory,
    raise_nofile,
)
from bench.report import BOT_CAPACITY, BOTS, CONCURRENCY, PACED_RATE, report, targets

WAITING = 20000


def waiting_default() -> int:
    """20,000, or fewer where the hard open-file limit is lower: the load process holds
    one socket per waiting request and woz one more, and neither may pass that limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        return WAITING
    return min(WAITING, int(hard) - 1000)


LIVE_STREAMS = 50
READY_TRIES = 150  # polls 0.1 s apart: 15 s for a server to answer
LOAD_TIMEOUT_S = 150.0
RESULTS = ROOT / "bench-results" / "latest.json"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- processes ---------------------------------------------------------------------


def woz_command() -> list[str]:
    """The `woz` console script next to this Python, or `python -m woz`."""
    script = Path(sys.executable).parent / "woz"
    return [str(script)] if script.exists() else [sys.executable, "-m", "woz"]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["WOZ_LOG_LEVEL"] = "warning"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.pop("WOZ_DATA", None)
    return env


def create_keys(data: Path, study: Path, roles: Sequence[str]) -> list[str]:
    """Tokens for new keys of `roles` for the study in file `study`; the first alone (it
    creates the database)."""

    def start(role: str, index: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                *woz_command(),
                "--data",
                str(data),
                "--log-level",
                "warning",
                "keys",
                "create",
                "--study",
                str(study),
                "--role",
                role,
                "--name",
                f"bench {role} {index}",
                "--json",
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )

    def token(process: subprocess.Popen[str]) -> str:
        out, _ = process.communicate(timeout=60)
        if process.returncode != 0:
            raise RuntimeError(f"`woz keys create` failed with status {process.returncode}")
        return str(json.loads(out)["token"])

    tokens = [token(start(roles[0], 0))]
    rest = [start(role, i) for i, role in enumerate(roles[1:], start=1)]
    return tokens + [token(p) for p in rest]


@dataclass
class Server:
    """A server subprocess under measurement."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str, headers: dict[str, str]) -> None:
        """Poll `path` until it answers 200, at most READY_TRIES times."""
        request = urllib.request.Request(self.url + path, headers=headers)
        for _ in range(READY_TRIES):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_tail()}")
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready; see {self.log_tail()}")

    def stop(self) -> float:
        """SIGTERM, then SIGKILL after 20 s; returns the seconds the shutdown took."""
        started = time.perf_counter()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"  {self.name} ignored SIGTERM for 20 s; killing it")
                self.process.kill()
                self.process.wait(timeout=10)
        return time.perf_counter() - started

    def log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def warnings(self) -> list[str]:
        """The lines the server logged at warning level or above (and any line that is not
        a JSON log event, such as a traceback), each cut to 300 characters."""
        kept = []
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                level = json.loads(line).get("level", "warning")
            except (ValueError, AttributeError):
                level = "warning"
            if line.strip() and level not in ("debug", "info"):
                kept.append(line[:300])
        return kept


def start_server(name: str, command: list[str], port: int, workdir: Path) -> Server:
    log = workdir / f"{name}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            env=child_env(),
            cwd=ROOT,
        )
    return Server(name, process, f"http://{HOST}:{port}", log)


def start_woz(data: Path, study: Path, app_key: str, workdir: Path, log_level: str) -> Server:
    port = free_port()
    command = [
        *woz_command(),
        "--data",
        str(data),
        "--log-level",
        log_level,
        "serve",
        "--study",
        str(study),
        "--host",
        HOST,
        "--port",
        str(port),
    ]
    server = start_server("woz", command, port, workdir)
    server.wait_ready("/v1/models", {"Authorization": f"Bearer {app_key}"})
    return server


def start_relay(workdir: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.relay", "--host", HOST, "--port", str(port)]
    server = start_server("relay", command, port, workdir)
    server.wait_ready("/health", {})
    return server


def run_load(arguments: list[str]) -> dict[str, Any]:
    """Run the load process with `arguments`; its last stdout line is the result."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.load", *arguments],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=LOAD_TIMEOUT_S,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load process failed with status {completed.returncode}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def throughput(
    server: Server,
    app_key: str,
    tokens: list[str],
    duration: float,
    warmup: float,
    rate: float | None = None,
    *,
    stream: bool = False,
) -> dict[str, Any]:
    """One round against `server`: saturating, or paced at `rate` requests a second."""
    pace = ["--rate", str(rate)] if rate else []
    if stream:
        pace.append("--stream")
    return run_load(
        [
            "throughput",
            "--label",
            server.name,
            "--url",
            server.url,
            "--app-key",
            app_key,
            "--tokens",
            *tokens,
            "--capacity",
            str(BOT_CAPACITY),
            "--concurrency",
            str(CONCURRENCY),
            "--warmup",
            str(warmup),
            "--duration",
            str(duration),
            "--server-pid",
            str(server.pid),
            *pace,
        ]
    )


def compare(
    woz: Server, relay: Server, app_key: str, tokens: list[str], plan: Plan, *, stream: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Rounds against woz and the relay in ABBA order, so drift and noise hit both alike."""
    rounds: dict[str, list[dict[str, Any]]] = {"woz": [], "relay": []}
    for number in range(plan.rounds):
        order = (woz, relay) if number % 2 == 0 else (relay, woz)
        for server in order:
            key = app_key if server is woz else "unused"
            rounds[server.name].append(
                throughput(server, key, tokens, plan.round_s, plan.warmup_s, stream=stream)
            )
    return merge(rounds["woz"]), merge(rounds["relay"])


def cpu_per_request(woz: dict[str, Any], relay: dict[str, Any]) -> dict[str, Any]:
    """Server CPU ms per answered request, per round: min and median for each server, and
    the woz/relay ratio of the medians. The headline: a busy machine disturbs it far less
    than throughput, and the minimum is the round least disturbed."""
    figures: dict[str, Any] = {}
    for run in (woz, relay):
        per_round = [
            round(r["server_cpu_pct"] * 10 / r["throughput_rps"], 3)
            for r in run["rounds"]
            if r["throughput_rps"]
        ]
        figures[run["label"]] = {
            "rounds_ms": per_round,
            "min_ms": min(per_round, default=math.nan),
            "median_ms": round(median(per_round), 3),
        }
    relay_median = figures["relay"]["median_ms"]
    figures["ratio"] = round(figures["woz"]["median_ms"] / relay_median, 2) if relay_median else 0
    return figures


def merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One server's rounds as one run: counts summed, latencies pooled, CPU time-weighted."""
    elapsed = sum(float(r["duration_s"]) for r in rounds)
    latencies = [ms / 1000 for r in rounds for ms in r.pop("latencies_ms")]
    failures: dict[str, int] = {}
    for r in rounds:
        for problem, count in r["failures"].items():
            failures[problem] = failures.get(problem, 0) + count

    def weighted(name: str) -> float:
        total = sum(float(r[name]) * float(r["duration_s"]) for r in rounds)
        return round(total / elapsed, 1)

    requests = sum(r["requests"] for r in rounds)
    return {
        "label": rounds[0]["label"],
        "concurrency": rounds[0]["concurrency"],
        "bots": rounds[0]["bots"],
        "bot_capacity": rounds[0]["bot_capacity"],
        "duration_s": round(elapsed, 3),
        "requests": requests,
        "errors": sum(r["errors"] for r in rounds),
        "failures": failures,
        "throughput_rps": round(requests / elapsed, 1),
        "latency_ms": latency_ms(latencies),
        "server_cpu_pct": weighted("server_cpu_pct"),
        "load_process_cpu_pct": weighted("load_process_cpu_pct"),
        "machine_cpu_pct": weighted("machine_cpu_pct"),
        "bot_rejections": sum(r["bot_rejections"] for r in rounds),
        "operator_frames_per_request": weighted("operator_frames_per_request"),
        "server_cpu_ms_per_request": round(
            weighted("server_cpu_pct") * 10 / max(requests / elapsed, 1e-9), 3
        ),
        "rounds": rounds,
    }


# -- the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How long and how hard to measure."""

    rounds: int
    round_s: float
    warmup_s: float
    waiting: int
    log_level: str


def machine_busy(seconds: float = 1.0) -> float:
    """CPU % of one core the machine uses over `seconds`, before the bench adds its own."""
    before = machine_cpu_seconds()
    time.sleep(seconds)
    return round((machine_cpu_seconds() - before) / seconds * 100, 1)


def measure(plan: Plan) -> dict[str, Any]:
    waiting = plan.waiting
    nofile = raise_nofile(waiting * 2 + 4096)
    with tempfile.TemporaryDirectory(prefix="woz-bench-") as tmp:
        workdir = Path(tmp)
        data = workdir / "data"
        study = workdir / "bench-study.toml"
        study.write_text(STUDY_TOML)
        say(f"woz bench: data in {data}, open-file limit {nofile}")
        tokens = create_keys(data, study, ["app", *(["operator"] * BOTS)])
        app_key, operators = tokens[0], tokens[1:]

        woz = start_woz(data, study, app_key, workdir, plan.log_level)
        relay = start_relay(workdir)
        servers = [woz, relay]
        try:
            say(f"woz pid {woz.pid} at {woz.url}; relay pid {relay.pid} at {relay.url}")
            woz_run, relay_run = compare(woz, relay, app_key, operators, plan, stream=False)
            woz_stream, relay_stream = compare(woz, relay, app_key, operators, plan, stream=True)
            say("typing: 50 live streams")
            live = run_load(
                [
                    "typing",
                    "--url",
                    woz.url,
                    "--app-key",
                    app_key,
                    "--token",
                    operators[0],
                    "--streams",
                    str(LIVE_STREAMS),
                    "--server-pid",
                    str(woz.pid),
                ]
            )
            paced = {
                server.name: throughput(
                    server,
                    app_key if server is woz else "unused",
                    operators,
                    plan.round_s,
                    plan.warmup_s,
                    rate=PACED_RATE,
                )
                for server in (woz, relay)
            }
            woz_run["peak_rss_bytes"] = proc_memory(woz.pid)["VmHWM"]
            relay_run["peak_rss_bytes"] = proc_memory(relay.pid)["VmHWM"]
            woz_run["log"] = woz.warnings()
            woz_run["shutdown_s"] = round(woz.stop(), 2)

            say("memory: a fresh woz for the waiting requests")
            woz = start_woz(data, study, app_key, workdir, plan.log_level)
            servers.append(woz)
            memory_run = run_load(
                [
                    "memory",
                    "--url",
                    woz.url,
                    "--app-key",
                    app_key,
                    "--holder-token",
                    operators[0],
                    "--probe-token",
                    operators[1],
                    "--waiting",
                    str(waiting),
                    "--server-pid",
                    str(woz.pid),
                ]
            )
            memory_run["log"] = woz.warnings()
            memory_run["shutdown_s"] = round(woz.stop(), 2)
            db_bytes = sum(p.stat().st_size for p in data.glob("woz.db*") if p.is_file())
        except BaseException:
            for server in servers:
                say(f"--- {server.name} (pid {server.pid}) log ---\n{server.log_tail()}")
            raise
        finally:
            for server in servers:
                server.stop()
    return {
        "cpu_per_request": {
            "non_streaming": cpu_per_request(woz_run, relay_run),
            "streaming": cpu_per_request(woz_stream, relay_stream),
        },
        "woz": woz_run,
        "relay": relay_run,
        "streaming": {"woz": woz_stream, "relay": relay_stream},
        "paced": paced,
        "typing": live,
        "memory": memory_run,
        "database_bytes": db_bytes,
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark woz against a bare relay.")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server, interleaved")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per round")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per round")
    parser.add_argument(
        "--waiting", type=int, default=waiting_default(), help="requests held at once"
    )
    parser.add_argument(
        "--log-level", default="info", help="woz's log level (default: woz's own default, info)"
    )
    args = parser.parse_args(argv)
    plan = Plan(max(1, args.rounds), args.duration, args.warmup, args.waiting, args.log_level)
    started = time.perf_counter()
    busy = machine_busy()
    if busy >= 30:
        say(f"note: the machine is already using {busy:.0f}% of a core; figures will be noisy")
    try:
        figures = measure(plan)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        say(f"woz bench could not run: {exc}")
        return 1
    figures["log_level"] = plan.log_level
    figures["machine"] = {
        "busy_before_pct": busy,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    figures["ratio"] = round(
        figures["woz"]["throughput_rps"] / max(figures["relay"]["throughput_rps"], 1e-9), 3
    )
    checks = targets(figures)
    figures["targets"] = checks
    figures["commit"] = git_commit()
    figures["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(report(figures, checks))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures saved to {RESULTS.relative_to(ROOT)} ({figures['bench_seconds']:.0f} s run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
