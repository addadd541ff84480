"""Comparing the arms of an experiment: what `woz report arms` prints.

Per arm: participants and turns, the latency the participant experienced
(received to delivered, p50 and p90), operator handle time (assigned to
answered), edit ratios of assist-mode drafts, counts by `produced_by`, and the
participants' thumbs on answers (how many, and their mean: +1 up, -1 down).
Rendered as a table, as JSON, or as a small SVG chart for a paper.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from xml.sax.saxutils import escape

from pydantic import BaseModel

from woz.models.record import Record, RecordStatus
from woz.text_table import aligned


class ArmSummary(BaseModel):
    arm: str
    participants: int
    turns: int
    delivered: int
    latency_p50_s: float | None
    latency_p90_s: float | None
    handle_p50_s: float | None
    edit_ratio_mean: float | None
    edit_ratio_p50: float | None
    produced_by: dict[str, int]
    ratings: int = 0
    rating_mean: float | None = None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return round(value, 3)


def summarise_arms(
    records: Iterable[Record], ratings: Mapping[str, int] | None = None
) -> list[ArmSummary]:
    """One summary per arm (records without an arm are grouped as `-`), sorted by arm;
    `ratings` are the participants' thumbs (+1 or -1) by record id."""
    by_arm: dict[str, list[Record]] = {}
    for record in records:
        by_arm.setdefault(record.arm or "-", []).append(record)
    return [_summary(arm, group, ratings or {}) for arm, group in sorted(by_arm.items())]


def _summary(arm: str, records: list[Record], ratings: Mapping[str, int]) -> ArmSummary:
    rated = [ratings[r.id] for r in records if r.id in ratings]
    delivered = [r for r in records if r.status is RecordStatus.DELIVERED]
    latencies = [
        (r.timings.delivered_at - r.timings.received_at).total_seconds()
        for r in delivered
        if r.timings.delivered_at
    ]
    handle = [
        (r.timings.answered_at - r.timings.assigned_at).total_seconds()
        for r in records
        if r.timings.answered_at and r.timings.assigned_at and r.operator
    ]
    ratios = [r.edit_ratio for r in records if r.edit_ratio is not None]
    return ArmSummary(
        arm=arm,
        participants=len({r.participant for r in records if r.participant}),
        turns=len(records),
        delivered=len(delivered),
        latency_p50_s=percentile(latencies, 50),
        latency_p90_s=percentile(latencies, 90),
        handle_p50_s=percentile(handle, 50),
        edit_ratio_mean=round(sum(ratios) / len(ratios), 4) if ratios else None,
        edit_ratio_p50=percentile(ratios, 50),
        produced_by=dict(Counter(str(r.produced_by) for r in records if r.produced_by)),
        ratings=len(rated),
        rating_mean=round(sum(rated) / len(rated), 4) if rated else None,
    )


def _cell(value: float | int | None) -> str:
    return "-" if value is None else str(value)


def render_table(summaries: Sequence[ArmSummary]) -> str:
    """A plain-text table, one row per arm."""
    header = [
        "arm", "participants", "turns", "latency p50 s", "latency p90 s",
        "handle p50 s", "edit ratio mean", "rating mean (n)", "produced_by",
    ]  # fmt: skip
    rows = [
        [
            s.arm,
            _cell(s.participants),
            _cell(s.turns),
            _cell(s.latency_p50_s),
            _cell(s.latency_p90_s),
            _cell(s.handle_p50_s),
            _cell(s.edit_ratio_mean),
            f"{_cell(s.rating_mean)} ({s.ratings})",
            ", ".join(f"{k} {v}" for k, v in sorted(s.produced_by.items())) or "-",
        ]
        for s in summaries
    ]
    return "\n".join(aligned([header, *rows], rule=True))


def render_svg(summaries: Sequence[ArmSummary], title: str = "Response latency by arm") -> str:
    """A grouped bar chart of latency p50 and p90 per arm, as standalone SVG."""
    width, height, margin, bar = 640, 360, 56, 28
    peak = max([s.latency_p90_s or 0.0 for s in summaries] + [1e-9])
    plot_h = height - 2 * margin
    slot = (width - 2 * margin) / max(len(summaries), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" '
        f'y2="{height - margin}" stroke="#333"/>',
        f'<text x="16" y="{height / 2}" transform="rotate(-90 16 {height / 2})" '
        'text-anchor="middle">seconds</text>',
    ]
    for i, summary in enumerate(summaries):
        x = margin + i * slot + slot / 2
        for j, (value, colour, label) in enumerate(
            ((summary.latency_p50_s, "#4c78a8", "p50"), (summary.latency_p90_s, "#f58518", "p90"))
        ):
            h = 0.0 if value is None else plot_h * value / peak
            bx = x - bar + j * bar
            parts.append(
                f'<rect x="{bx:.1f}" y="{height - margin - h:.1f}" width="{bar - 2}" '
                f'height="{h:.1f}" fill="{colour}"><title>{label} {_cell(value)} s</title></rect>'
            )
            parts.append(
                f'<text x="{bx + bar / 2 - 1:.1f}" y="{height - margin - h - 4:.1f}" '
                f'text-anchor="middle">{_cell(value)}</text>'
            )
        parts.append(
            f'<text x="{x:.1f}" y="{height - margin + 18}" text-anchor="middle">'
            f"{escape(summary.arm)} (n={summary.participants})</text>"
        )
    legend_y = height - 14
    parts.append(f'<rect x="{margin}" y="{legend_y - 10}" width="10" height="10" fill="#4c78a8"/>')
    parts.append(f'<text x="{margin + 14}" y="{legend_y}">p50</text>')
    parts.append(
        f'<rect x="{margin + 50}" y="{legend_y - 10}" width="10" height="10" fill="#f58518"/>'
    )
    parts.append(f'<text x="{margin + 64}" y="{legend_y}">p90</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
