"""The bench's verdicts and printed report: the targets, met or not, and the tables."""

from __future__ import annotations

from typing import Any

from bench.common import mib

BOTS = 4
BOT_CAPACITY = 50
CONCURRENCY = 100
# The paced latency run: 100 clients sending two requests a second each, at random
# times. More than any group of people chatting through a human-answered study
# sends, and well below what woz and the relay can serve, so latency there is what
# the server adds, not time spent queueing behind a saturated core.
PACED_RATE = 200.0

# Targets (the issue's, on a 2-core machine). "Served promptly" is not quantified
# there; the bench takes 100 ms, the usual bound for a response that feels
# instant, for every operator step measured while the requests wait.
MIN_RATIO = 0.5
MAX_P99_MS = 50.0
MAX_PEAK_RSS_MB = 250.0
MAX_OPERATOR_STEP_MS = 100.0


def targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    woz, relay, memory = figures["woz"], figures["relay"], figures["memory"]
    paced_woz = figures["paced"]["woz"]
    ratio = woz["throughput_rps"] / relay["throughput_rps"] if relay["throughput_rps"] else 0.0
    peak_mb = memory["peak_rss_bytes"] / 1_000_000
    worst_step = memory["probe"]["worst_operator_step_ms"]
    served = [
        memory["probe"]["reply_to_ack_ms"]["max"],
        memory["probe"]["reply_to_next_task_ms"]["max"],
        worst_step,
    ]
    return [
        {
            "target": f"woz throughput >= {MIN_RATIO:.0%} of the bare relay's (store on)",
            "value": f"{ratio:.0%}",
            "met": ratio >= MIN_RATIO,
        },
        {
            "target": f"woz p99 < {MAX_P99_MS:g} ms at {CONCURRENCY} concurrent clients,"
            " saturating",
            "value": f"{woz['latency_ms']['p99']:.1f} ms"
            f" (bare relay: {relay['latency_ms']['p99']:.1f} ms)",
            "met": woz["latency_ms"]["p99"] < MAX_P99_MS,
        },
        {
            "target": f"woz p99 < {MAX_P99_MS:g} ms at {CONCURRENCY} concurrent clients,"
            f" paced at {PACED_RATE:g} req/s",
            "value": f"{paced_woz['latency_ms']['p99']:.1f} ms"
            f" (bare relay: {figures['paced']['relay']['latency_ms']['p99']:.1f} ms)",
            "met": paced_woz["latency_ms"]["p99"] < MAX_P99_MS and paced_woz["errors"] == 0,
        },
        {
            "target": f"peak RSS < {MAX_PEAK_RSS_MB:g} MB with {memory['waiting_target']} waiting",
            "value": f"{peak_mb:.1f} MB",
            "met": peak_mb < MAX_PEAK_RSS_MB and memory["all_waiting"],
        },
        {
            "target": f"operator served promptly: every step < {MAX_OPERATOR_STEP_MS:g} ms",
            "value": f"worst {max(served):.1f} ms",
            "met": max(served) < MAX_OPERATOR_STEP_MS,
        },
    ]


def report(figures: dict[str, Any], checks: list[dict[str, Any]]) -> str:
    woz, relay, memory = figures["woz"], figures["relay"], figures["memory"]
    probe = memory["probe"]
    ratio = woz["throughput_rps"] / relay["throughput_rps"] if relay["throughput_rps"] else 0.0
    rounds = len(woz["rounds"])
    lines = [
        "",
        f"woz bench  ({figures['machine']['cpus']} CPUs, Python {figures['machine']['python']},"
        f" {CONCURRENCY} clients, {BOTS} bots x capacity {BOT_CAPACITY}, non-streaming,"
        f" {rounds} x {woz['rounds'][0]['duration_s']:.0f} s per server, interleaved)",
        "",
        f"  {'':<10}{'req/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'errors':>7}{'server':>8}{'load':>6}{'others':>8}{'ms/req':>8}",
    ]
    for run in (woz, relay):
        lines.append(
            _row(run)
            + f"{run['server_cpu_ms_per_request']:>8.2f}   rounds: "
            + ", ".join(f"{r['throughput_rps']:.0f}" for r in run["rounds"])
            + " req/s"
        )
    lines.append(f"  {'woz/relay':<10}{ratio:>7.0%}")
    lines.append(
        "  (server, load, others: CPU % of one core during the measured seconds; ms/req: the"
        " server's CPU time per answered request; others includes kernel networking)"
    )
    lines += _notes(woz, relay)
    lines += [
        "",
        f"  paced: {CONCURRENCY} clients sending {PACED_RATE:g} req/s in all, at random times"
        " (latency from when each request was due)",
    ]
    lines += [_row(figures["paced"]["woz"]), _row(figures["paced"]["relay"])]
    lines += [
        "",
        f"  {memory['waiting_target']} requests waiting for a human"
        f" (all queued: {'yes' if memory['all_waiting'] else 'NO'},"
        f" in {memory['ramp_s']:.1f} s, failures {sum(memory['failures'].values())})",
        f"    RSS idle {mib(memory['rss_idle_bytes'])} MiB,"
        f" waiting {mib(memory['rss_waiting_bytes'])} MiB,"
        f" peak {mib(memory['peak_rss_bytes'])} MiB"
        f" ({memory['peak_rss_bytes'] / 1_000_000:.1f} MB)",
        f"    server CPU at rest while they wait: {memory['server_cpu_at_rest_pct']:.0f}%"
        " of one core",
        f"    probe operator: connect->hello {probe['connect_to_hello_ms']:.1f} ms,"
        f" ready->task {probe['ready_to_task_ms']:.1f} ms; over {probe['rounds']} rounds"
        " (p50 / p99 / max ms):",
        f"      reply->ack {_three(probe['reply_to_ack_ms'])};"
        f" reply->next task {_three(probe['reply_to_next_task_ms'])};"
        f" reply->client answer {_three(probe['reply_to_client_answer_ms'])}",
        f"    released {memory['waiting_target']} clients in {memory['release_s']:.1f} s"
        f" (queue empty: {'yes' if memory['released_all'] else 'NO'});"
        f" woz shutdown {memory['shutdown_s']:.1f} s",
    ]
    logged = woz["log"] + memory["log"]
    if logged:
        lines.append(f"  woz logged {len(logged)} line(s) at warning or above; the first:")
        lines.append(f"    {logged[0][:200]}")
    lines += [
        "",
        "  targets",
    ]
    for check in checks:
        mark = "met    " if check["met"] else "NOT MET"
        lines.append(f"    [{mark}] {check['target']}: {check['value']}")
    lines.append("")
    return "\n".join(lines)


def _row(run: dict[str, Any]) -> str:
    """One server's line of a table: throughput, latency, errors and CPU use."""
    lat = run["latency_ms"]
    return (
        f"  {run['label']:<10}{run['throughput_rps']:>8.1f}{lat['p50']:>8.1f}"
        f"{lat['p90']:>8.1f}{lat['p99']:>8.1f}{lat['max']:>8.1f}{run['errors']:>7}"
        f"{run['server_cpu_pct']:>8.0f}{run['load_process_cpu_pct']:>6.0f}{_others(run):>8.0f}"
    )


def _others(run: dict[str, Any]) -> float:
    """Machine CPU not used by the server or the load process (includes kernel networking)."""
    used = float(run["server_cpu_pct"]) + float(run["load_process_cpu_pct"])
    return max(0.0, float(run["machine_cpu_pct"]) - used)


def _notes(woz: dict[str, Any], relay: dict[str, Any]) -> list[str]:
    """Caveats worth printing next to the table."""
    notes = []
    if relay["load_process_cpu_pct"] >= 90:
        notes.append(
            "  note: the load process used a whole core during the relay runs, so the relay's"
            " figure is a floor and the ratio a ceiling"
        )
    busy = max(_others(woz), _others(relay))
    if busy >= 60:
        notes.append(
            f"  note: other work used up to {busy:.0f}% of a core during the runs;"
            " expect noisy figures (run again on a quiet machine)"
        )
    return notes


def _three(lat: dict[str, float]) -> str:
    return f"{lat['p50']:.1f} / {lat['p99']:.1f} / {lat['max']:.1f}"
