"""The per-arm report: figures per condition, as a table, JSON and an SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

from tests.unit.records import T0, make_record
from woz.models.record import Record, Timings
from woz.models.task import Answer, ProducedBy
from woz.research.arm_report import percentile, render_svg, render_table, summarise_arms


def record(
    arm: str, participant: str, latency: float, produced_by: ProducedBy, ratio: float | None
) -> Record:
    """A delivered answer in `arm`, `latency` seconds after it was received."""
    return make_record(
        participant,
        id=f"rec_{arm}_{participant}_{latency}",
        operator="op_1" if produced_by is not ProducedBy.MODEL else None,
        answer=Answer(content="x", produced_by=produced_by),
        produced_by=produced_by,
        edit_ratio=ratio,
        arm=arm,
        timings=Timings(
            received_at=T0,
            assigned_at=T0,
            answered_at=T0 + timedelta(seconds=latency / 2),
            delivered_at=T0 + timedelta(seconds=latency),
        ),
    )


def test_percentiles_interpolate() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 90) == 10
    assert percentile([], 50) is None


def test_summary_per_arm() -> None:
    """Each arm gets its participants, turns, latency percentiles and edit ratios."""
    records = [
        record("assist", "a", 4.0, ProducedBy.HUMAN_EDITED_MODEL_DRAFT, 0.2),
        record("assist", "a", 6.0, ProducedBy.MODEL, 0.0),
        record("assist", "b", 8.0, ProducedBy.HUMAN, 0.8),
        record("model", "c", 1.0, ProducedBy.MODEL, None),
    ]
    assist, model = summarise_arms(records)
    assert (assist.arm, assist.participants, assist.turns) == ("assist", 2, 3)
    assert assist.latency_p50_s == 6.0 and assist.latency_p90_s == 7.6
    assert assist.edit_ratio_mean == round(1.0 / 3, 4)
    assert assist.produced_by == {"human_edited_model_draft": 1, "model": 1, "human": 1}
    assert (model.participants, model.handle_p50_s, model.edit_ratio_mean) == (1, None, None)
    table = render_table([assist, model]).splitlines()
    assert table[0].split()[:3] == ["arm", "participants", "turns"]
    assert table[2].startswith("assist") and table[3].startswith("model")


def test_mean_rating_per_arm_counts_only_rated_answers() -> None:
    """Thumbs (+1, -1) average per arm over the answers rated; an arm without any has none."""
    records = [
        record("human", "a", 1.0, ProducedBy.HUMAN, None),
        record("human", "b", 2.0, ProducedBy.HUMAN, None),
        record("human", "c", 3.0, ProducedBy.HUMAN, None),
        record("model", "d", 1.0, ProducedBy.MODEL, None),
    ]
    ratings = {records[0].id: 1, records[1].id: 1, records[2].id: -1}
    human, model = summarise_arms(records, ratings)
    assert (human.ratings, human.rating_mean) == (3, round(1 / 3, 4))
    assert (model.ratings, model.rating_mean) == (0, None)
    table = render_table([human, model])
    assert "rating mean (n)" in table and "0.3333 (3)" in table and "- (0)" in table


def test_svg_chart_is_well_formed() -> None:
    """The chart parses as SVG and has two bars per arm."""
    summaries = summarise_arms(
        [
            record("human", "a", 12.0, ProducedBy.HUMAN, None),
            record("model", "b", 2.0, ProducedBy.MODEL, None),
        ]
    )
    root = ET.fromstring(render_svg(summaries))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    bars = [
        el
        for el in root.iter("{http://www.w3.org/2000/svg}rect")
        if el.find("{http://www.w3.org/2000/svg}title") is not None
    ]
    assert len(bars) == 4
