"""The load process: bot operators and API clients, in a process of their own.

Two scenarios, one per invocation; each prints one JSON object on stdout (progress
goes to stderr):

- `throughput`: bots answer every task at once over real websockets while
  `--concurrency` clients send chat completions (`--stream`: streaming) back to back
  (saturation), or, with `--rate`, at random times adding up to that many
  requests per second (paced: latency at a load the server keeps up with).
  After `--warmup` seconds, requests completing during the next `--duration`
  seconds are counted; latency is measured per request, client-side.
- `memory`: a holder operator (ready, capacity 1) accepts one task and never
  answers, so `--waiting` concurrent requests wait for a human at once. The
  server's RSS and peak RSS are read from /proc, its CPU use at rest is sampled,
  then a probe operator measures how promptly it is still served, round after
  round: connect to `hello`, `ready` to `task.assigned` (the next task),
  `reply` to `reply.ack`, and `reply` to the waiting client's HTTP response.
- `typing`: `--streams` streaming requests to a live persona; a bot types into
  every one a word at a time and the client-side arrival of each word is timed
  from the `typing` frame that carried it.

Only 127.0.0.1 is contacted; every wait is bounded. Run as
`python -m bench.load SCENARIO ...` from the repository root.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.bots import BotOperator
from bench.common import (
    BOT_ANSWER,
    LIVE_MODEL,
    chat_body,
    latency_ms,
    machine_cpu_seconds,
    mib,
    proc_cpu_seconds,
    proc_memory,
    raise_nofile,
    self_cpu_seconds,
    sse_deltas,
)

REQUEST_TIMEOUT_S = 30.0


def say(message: str) -> None:
    print(f"  [load] {message}", file=sys.stderr, flush=True)


# -- throughput ------------------------------------------------------------------


@dataclass
class _Sample:
    done_at: float
    latency: float
    ok: bool


@dataclass
class _Clients:
    """Concurrent API clients, closed-loop or paced.

    Closed loop (`rate_per_client` None): each client sends its next request as
    soon as the last one returns, so the server is saturated. Paced: each client
    sends at random (Poisson) times at `rate_per_client` requests per second,
    whether or not its last request has returned, and latency counts from the
    time a request was due, so a slow server cannot hide its backlog.
    """

    session: aiohttp.ClientSession
    url: str
    headers: dict[str, str]
    rate_per_client: float | None = None
    stream: bool = False
    samples: list[_Sample] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)

    async def worker(self, name: int) -> None:
        if self.rate_per_client is None:
            while not self.stop.is_set():
                if not await self.request(name, time.perf_counter()):
                    await asyncio.sleep(0.01)  # no hot loop against a failing server
            return
        due = time.perf_counter() + random.expovariate(self.rate_per_client)
        while not self.stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            call = asyncio.create_task(self.request(name, due))
            self.in_flight.add(call)
            call.add_done_callback(self.in_flight.discard)
            due += random.expovariate(self.rate_per_client)

    async def request(self, name: int, started: float) -> bool:
        """One chat completion; its latency counts from `started`."""
        number = next(self.numbers)
        # A unique body per request: woz joins identical bodies to one task (retries).
        text = f"bench request {name}-{number}"
        body = json.dumps(chat_body(text, stream=self.stream)).encode()
        ok = False
        try:
            async with self.session.post(self.url, data=body, headers=self.headers) as resp:
                payload = await resp.read()
            if resp.status == 200:
                if self.stream:
                    content = sse_deltas(payload)
                else:
                    content = json.loads(payload)["choices"][0]["message"]["content"]
                ok = content == BOT_ANSWER
                problem = "wrong_answer"
            else:
                problem = f"http_{resp.status}"
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            problem = type(exc).__name__
        done = time.perf_counter()
        self.samples.append(_Sample(done, done - started, ok))
        if not ok:
            self.failures[problem] = self.failures.get(problem, 0) + 1
        return ok


async def throughput(args: argparse.Namespace) -> dict[str, Any]:
    base = args.url.rstrip("/")
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=args.concurrency, limit_per_host=args.concurrency)
    async with (
        aiohttp.ClientSession(timeout=timeout) as bot_session,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        bots = [BotOperator(bot_session, base, token, answer=BOT_ANSWER) for token in args.tokens]
        for bot in bots:
            await bot.connect()
            await bot.ready(args.capacity)
        await asyncio.sleep(0.3)  # let every `ready` land before the first request
        clients = _Clients(
            session,
            base + "/v1/chat/completions",
            {"Authorization": f"Bearer {args.app_key}", "Content-Type": "application/json"},
            rate_per_client=args.rate / args.concurrency if args.rate else None,
            stream=args.stream,
        )
        workers = [asyncio.create_task(clients.worker(i)) for i in range(args.concurrency)]
        pace = f" at {args.rate:g} req/s" if args.rate else ""
        say(f"{args.label}: {args.concurrency} clients{pace}, warming up {args.warmup:g}s")
        await asyncio.sleep(args.warmup)
        cpu_0, frames_0 = _cpu_readings(args.server_pid), sum(bot.received for bot in bots)
        start = time.perf_counter()
        await asyncio.sleep(args.duration)
        end = time.perf_counter()
        cpu_1, frames_1 = _cpu_readings(args.server_pid), sum(bot.received for bot in bots)
        clients.stop.set()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S + 5):
                await asyncio.gather(*workers)
                await asyncio.gather(*clients.in_flight)
        except TimeoutError:
            for work in [*workers, *clients.in_flight]:
                work.cancel()
            await asyncio.gather(*workers, *clients.in_flight, return_exceptions=True)
        for bot in bots:
            await bot.close()
    window = [s for s in clients.samples if start <= s.done_at < end]
    ok = [s.latency for s in window if s.ok]
    elapsed = end - start
    server_cpu, load_cpu, machine_cpu = (
        round((after - before) / elapsed * 100, 1)
        for before, after in zip(cpu_0, cpu_1, strict=True)
    )
    result = {
        "label": args.label,
        "concurrency": args.concurrency,
        "offered_rps": args.rate,
        "stream": args.stream,
        "bots": len(bots),
        "bot_capacity": args.capacity,
        "warmup_s": args.warmup,
        "duration_s": round(elapsed, 3),
        "requests": len(ok),
        "errors": len(window) - len(ok),
        "failures": clients.failures,
        "throughput_rps": round(len(ok) / elapsed, 1),
        "latency_ms": latency_ms(ok),
        "server_cpu_pct": server_cpu,
        "load_process_cpu_pct": load_cpu,
        "machine_cpu_pct": machine_cpu,
        "bot_rejections": sum(bot.rejected for bot in bots),
        "operator_frames_per_request": round((frames_1 - frames_0) / max(len(window), 1), 2),
        "latencies_ms": [round(latency * 1000, 3) for latency in ok],
    }
    say(
        f"{args.label}: {result['throughput_rps']} req/s, "
        f"p50 {result['latency_ms']['p50']} ms, p99 {result['latency_ms']['p99']} ms"
    )
    return result


def _cpu_readings(server_pid: int) -> tuple[float, float, float]:
    """CPU seconds so far of the server, this process and the whole machine."""
    return proc_cpu_seconds(server_pid), self_cpu_seconds(), machine_cpu_seconds()


# -- memory ------------------------------------------------------------------------


@dataclass
class _Waiters:
    """Requests that wait for a human; remembers when each one got its answer."""

    session: aiohttp.ClientSession
    url: str
    headers: dict[str, str]
    answered_at: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    finished: int = 0

    async def request(self, text: str) -> None:
        body = json.dumps(chat_body(text)).encode()
        problem = ""
        try:
            async with self.session.post(self.url, data=body, headers=self.headers) as resp:
                await resp.read()
                if resp.status != 200:
                    problem = f"http_{resp.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            problem = type(exc).__name__
        finally:
            self.finished += 1
        if problem:
            self.failures[problem] = self.failures.get(problem, 0) + 1
        else:
            self.answered_at[text] = time.perf_counter()


def _task_text(task: dict[str, Any]) -> str:
    """The last message's text of a `task.assigned` task (woz sends content parts)."""
    content = task["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text") or "" for part in content)


async def memory(args: argparse.Namespace) -> dict[str, Any]:
    raise_nofile(args.waiting * 2 + 1024)
    base = args.url.rstrip("/")
    rss_idle = proc_memory(args.server_pid)
    waiting = args.waiting
    # A request waits for a human as long as the run lasts; cleanup cancels it.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=waiting + 10, limit_per_host=waiting + 10)
    async with (
        aiohttp.ClientSession() as bot_session,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        holder = BotOperator(bot_session, base, args.holder_token, answer=None)
        await holder.connect()
        await holder.ready(1)
        waiters = _Waiters(
            session,
            base + "/v1/chat/completions",
            {"Authorization": f"Bearer {args.app_key}", "Content-Type": "application/json"},
        )
        calls: list[asyncio.Task[None]] = []
        try:
            return await _memory_run(args, holder, bot_session, waiters, calls, rss_idle)
        finally:
            for call in calls:
                call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            await holder.close()


async def _memory_run(
    args: argparse.Namespace,
    holder: BotOperator,
    bot_session: aiohttp.ClientSession,
    waiters: _Waiters,
    calls: list[asyncio.Task[None]],
    rss_idle: dict[str, int],
) -> dict[str, Any]:
    waiting = args.waiting
    held = 1  # the holder's one task is assigned, not waiting in the queue
    say(f"memory: opening {waiting} requests that wait for a human")
    ramp_started = time.perf_counter()
    batch = 100
    while len(calls) < waiting:
        for _ in range(min(batch, waiting - len(calls))):
            calls.append(asyncio.create_task(waiters.request(f"bench wait {len(calls)}")))
        # Keep at most a few batches in the server's accept queue at a time.
        behind = len(calls) - 3 * batch - held - waiters.finished
        if not await holder.wait_waiting(behind, timeout=20.0):
            raise RuntimeError(f"woz queued only {holder.waiting} of {len(calls)} requests")
    all_queued = await holder.wait_waiting(waiting - held - waiters.finished, timeout=30.0)
    ramp_s = time.perf_counter() - ramp_started
    say(f"memory: {holder.waiting} waiting in the queue after {ramp_s:.1f}s")
    await asyncio.sleep(0.5)
    rss_waiting = proc_memory(args.server_pid)

    # What holding the waiters costs the server while nothing else happens.
    cpu_0, rest_started = _cpu_readings(args.server_pid), time.perf_counter()
    await asyncio.sleep(args.rest)
    rest_s = time.perf_counter() - rest_started
    cpu_1 = _cpu_readings(args.server_pid)
    rest_cpu_pct, _, machine_rest_pct = (
        (b - a) / rest_s * 100 for a, b in zip(cpu_0, cpu_1, strict=True)
    )

    probe = await _probe(args, bot_session, waiters)
    rss_after = proc_memory(args.server_pid)
    waiting_now = holder.waiting
    failures = dict(waiters.failures)

    # Release: every client leaves; the server should withdraw their tasks.
    released_at = time.perf_counter()
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    await waiters.session.close()
    drained = await _wait_drained(holder, timeout=30.0)
    release_s = time.perf_counter() - released_at
    say(f"memory: peak RSS {mib(rss_after['VmHWM'])} MiB; released in {release_s:.1f}s")
    return {
        "waiting_target": waiting,
        "all_waiting": all_queued,
        "waiting_reported": waiting_now + held,
        "ramp_s": round(ramp_s, 2),
        "failures": failures,
        "rss_idle_bytes": rss_idle["VmRSS"],
        "rss_waiting_bytes": rss_waiting["VmRSS"],
        "kib_per_waiting": round((rss_waiting["VmRSS"] - rss_idle["VmRSS"]) / waiting / 1024, 2),
        "peak_rss_bytes": rss_after["VmHWM"],
        "server_cpu_at_rest_pct": round(rest_cpu_pct, 1),
        "machine_cpu_at_rest_pct": round(machine_rest_pct, 1),
        "probe": probe,
        "release_s": round(release_s, 2),
        "released_all": drained,
    }


async def _probe(
    args: argparse.Namespace, session: aiohttp.ClientSession, waiters: _Waiters
) -> dict[str, Any]:
    """A second operator, served while the queue is full: how long does each step take?"""
    probe = BotOperator(session, args.url, args.probe_token, answer=None)
    hello_s = await probe.connect()
    try:
        sent = await probe.ready(1)
        frame, at = await probe.next_frame("task.assigned")
        ready_s = [at - sent]
        ack_s: list[float] = []
        answered_s: list[float] = []
        for _ in range(args.rounds):
            task = frame["task"]
            # Paused, the reply frees no slot; `ready` then asks for the next task.
            await probe.send({"type": "pause"})
            sent = await probe.reply(task["id"], BOT_ANSWER)
            ack, ack_at = await probe.next_frame("reply.ack", "reply.rejected")
            if ack["type"] != "reply.ack":
                raise RuntimeError(f"the probe's reply was rejected: {ack!r}")
            ack_s.append(ack_at - sent)
            text = _task_text(task)
            for _ in range(200):  # the client's answer, within 2 s
                if text in waiters.answered_at:
                    answered_s.append(waiters.answered_at[text] - sent)
                    break
                await asyncio.sleep(0.01)
            sent = await probe.ready(1)
            frame, at = await probe.next_frame("task.assigned")
            ready_s.append(at - sent)
    finally:
        await probe.close()
    every = [hello_s, *ready_s, *ack_s]
    say(
        f"memory: probe ready->task p99 {latency_ms(ready_s)['p99']} ms,"
        f" reply->ack p99 {latency_ms(ack_s)['p99']} ms over {args.rounds} rounds"
    )
    return {
        "rounds": args.rounds,
        "connect_to_hello_ms": round(hello_s * 1000, 2),
        "ready_to_task_ms": latency_ms(ready_s),
        "reply_to_ack_ms": latency_ms(ack_s),
        "reply_to_client_answer_ms": latency_ms(answered_s),
        "clients_answered": len(answered_s),
        "worst_operator_step_ms": round(max(every) * 1000, 2),
    }


# -- live typing -------------------------------------------------------------------


async def typing(args: argparse.Namespace) -> dict[str, Any]:
    """`--streams` live streams; a bot types into each, a word every `--interval` s.

    Each `typing` frame carries the whole draft so far, `w0 w1 ... wK ` (ending in a
    space, so woz streams word K at once); the latency of word K is from the frame's
    sending to the moment the client's stream yields it. Both ends live in this
    process, so one clock times them.
    """
    base = args.url.rstrip("/")
    sent_at: dict[tuple[str, int], float] = {}  # (client text, word) -> frame sent
    seen_at: dict[tuple[str, int], float] = {}  # (client text, word) -> chunk arrived
    headers = {"Authorization": f"Bearer {args.app_key}", "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=args.streams + 10)
    cpu_0 = _cpu_readings(args.server_pid)
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as bot_session,
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
    ):
        bot = BotOperator(bot_session, base, args.token, answer=None)
        await bot.connect()
        await bot.ready(args.streams)

        async def client(text: str) -> None:
            body = json.dumps(chat_body(text, stream=True, model=LIVE_MODEL)).encode()
            async with session.post(base + "/v1/chat/completions", data=body, headers=headers) as r:
                async for line in r.content:
                    at = time.perf_counter()
                    if not line.startswith(b"data: {"):
                        continue
                    delta = json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                    for word in delta.split():
                        if word.startswith("w") and word[1:].isdigit():
                            seen_at.setdefault((text, int(word[1:])), at)

        clients = [asyncio.create_task(client(f"bench live {n}")) for n in range(args.streams)]
        tasks: dict[str, str] = {}  # task id -> client text
        try:
            while len(tasks) < args.streams:
                frame, _ = await bot.next_frame("task.assigned", timeout=30.0)
                tasks[frame["task"]["id"]] = _task_text(frame["task"])
            say(f"typing: {len(tasks)} live streams open; typing {args.words} words into each")
            draft = ""
            for word in range(args.words):
                draft += f"w{word} "
                for task_id, text in tasks.items():
                    sent_at[(text, word)] = await bot.send(
                        {"type": "typing", "task_id": task_id, "text": draft}
                    )
                await asyncio.sleep(args.interval)
            for task_id in tasks:
                await bot.reply(task_id, draft + "done.")
            async with asyncio.timeout(30.0):
                await asyncio.gather(*clients)
        finally:
            for call in clients:
                call.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
            await bot.close()
    elapsed = time.perf_counter() - started
    cpu_1 = _cpu_readings(args.server_pid)
    latencies = [seen_at[key] - sent for key, sent in sent_at.items() if key in seen_at]
    result = {
        "streams": args.streams,
        "words": args.words,
        "interval_s": args.interval,
        "frames": len(sent_at),
        "words_seen": len(latencies),
        "typing_to_stream_ms": latency_ms(latencies),
        "server_cpu_pct": round((cpu_1[0] - cpu_0[0]) / elapsed * 100, 1),
    }
    say(f"typing: frame->stream p99 {result['typing_to_stream_ms']['p99']} ms")
    return result


async def _wait_drained(holder: BotOperator, timeout: float) -> bool:
    """Wait until the server reports an empty queue after the clients left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holder.waiting == 0:
            return True
        await asyncio.sleep(0.05)
    return False


# -- command line ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="The woz bench's load process.")
    scenarios = parser.add_subparsers(dest="scenario", required=True)

    run = scenarios.add_parser("throughput", help="bots answer at once; clients hammer")
    run.add_argument("--label", required=True)
    run.add_argument("--url", required=True)
    run.add_argument("--app-key", required=True)
    run.add_argument("--tokens", nargs="+", required=True, help="one operator token per bot")
    run.add_argument("--capacity", type=int, default=50)
    run.add_argument("--concurrency", type=int, default=100)
    run.add_argument(
        "--rate", type=float, default=None, help="paced: requests per second in all (else saturate)"
    )
    run.add_argument("--warmup", type=float, default=2.0)
    run.add_argument("--duration", type=float, default=10.0)
    run.add_argument("--stream", action="store_true", help="streaming chat completions")
    run.add_argument("--server-pid", type=int, required=True)

    mem = scenarios.add_parser("memory", help="requests wait for a human at once")
    mem.add_argument("--url", required=True)
    mem.add_argument("--app-key", required=True)
    mem.add_argument("--holder-token", required=True)
    mem.add_argument("--probe-token", required=True)
    mem.add_argument("--waiting", type=int, default=20000)
    mem.add_argument("--rounds", type=int, default=30)
    mem.add_argument("--rest", type=float, default=2.0, help="seconds of CPU sampling at rest")
    mem.add_argument("--server-pid", type=int, required=True)

    live = scenarios.add_parser("typing", help="an operator types into live streams")
    live.add_argument("--url", required=True)
    live.add_argument("--app-key", required=True)
    live.add_argument("--token", required=True)
    live.add_argument("--streams", type=int, default=50)
    live.add_argument("--words", type=int, default=40)
    live.add_argument("--interval", type=float, default=0.1, help="seconds between words")
    live.add_argument("--server-pid", type=int, required=True)
    return parser


SCENARIOS = {"throughput": throughput, "memory": memory, "typing": typing}


def main() -> None:
    args = build_parser().parse_args()
    result = asyncio.run(SCENARIOS[args.scenario](args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
