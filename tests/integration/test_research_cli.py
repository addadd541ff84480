"""The research commands as a researcher runs them beside a live server."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import openai
import pytest

from tests.conftest import STUDY_TOML, Woz, ask
from tests.databases import run_sql
from tests.integration.page_client import PAGE_STUDY_TOML, page_client
from tests.integration.research_seed import answer_task
from tests.integration.test_exports import run_woz
from woz.config import Settings
from woz.models.pseudonyms import tombstone_of
from woz.models.research import PageSession

LOW_RATE = (
    STUDY_TOML
    + """
[labor]
pay_rate = 8.0
currency = "EUR"
pay_floor = 12.0
"""
)


@pytest.mark.parametrize("study_toml", [LOW_RATE], indirect=True)
async def test_report_labor_after_a_live_shift(
    woz: Woz, openai_client: openai.AsyncOpenAI, settings: Settings
) -> None:
    """A live shift (ready, answer, pause) is in the ledger; a rate under the floor alerts."""
    op = await woz.ready_operator()
    call = ask(openai_client, "hi")
    task = await op.next_task()
    await op.reply(task["id"], "hello")
    await call
    await op.pause()
    await op.reply("task_none", "sync")  # answered after the pause has been stored
    data = ["--data", str(settings.data)]
    code, out, err = await run_woz(
        *data, "report", "labor", "--study", "test-study", "--format", "json"
    )
    assert code == 0, err
    ledger = json.loads(out)
    [row] = ledger["operators"]
    assert row["operator"] == op.hello["operator"]["id"] and row["tasks_answered"] == 1
    assert 0 < row["paid_s"] < 60 and row["effective_hourly"] == 8.0 and row["below_floor"]
    assert ledger["effective_hourly"]["median"] == row["effective_hourly"]
    assert err.startswith("woz: pay alert: operator op_") and "below the pay floor" in err
    code, out, _ = await run_woz(
        *data, "report", "labor", "--study", "test-study", "--format", "csv"
    )
    [header, first] = list(csv.reader(out.splitlines()))
    assert header[0] == "operator" and first[header.index("tasks_answered")] == "1"
    code, out, _ = await run_woz(*data, "report", "labor", "--study", "test-study")
    assert code == 0 and out.startswith("Labor ledger of test-study") and "BELOW FLOOR" in out


async def test_withdraw_from_the_command_line_and_verify_the_audit_log(
    woz: Woz, settings: Settings
) -> None:
    """`woz participants withdraw` deletes and audits; an edited audit row fails verification."""
    await answer_task(woz, "ada", "hello", "hi")
    data = ["--data", str(settings.data)]
    code, out, err = await run_woz(
        *data, "participants", "withdraw", "--study", "test-study", "ada"
    )
    assert code == 0, err
    assert out.startswith("Withdrew participant p_") and "1 record(s) deleted; tombstone t_" in out
    assert await woz.store.list_records(woz.study.id) == []
    code, out, err = await run_woz(*data, "audit", "verify")
    assert code == 0 and "test-study: ok" in out, err
    on_table = "" if settings.database_url is None else " ON audit_log"  # PostgreSQL names it
    run_sql(settings, f"DROP TRIGGER audit_append_only{on_table}")
    run_sql(settings, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    code, out, err = await run_woz(*data, "audit", "verify", "--study", "test-study")
    assert code == 2 and "test-study: BROKEN" in out
    assert err.startswith("woz: the audit log was tampered with: test-study: entry 2")
    assert "Traceback" not in err


async def test_commands_refuse_a_study_never_served(woz: Woz, settings: Settings) -> None:
    """A study id the data folder does not know is one clear line, exit 2."""
    code, _, err = await run_woz(
        "--data", str(settings.data), "export", "--study", "nope", "--format", "csv",
        "--purpose", "in_study_analysis", "--out", str(settings.data / "x"),
    )  # fmt: skip
    assert code == 2
    assert err.strip() == (
        "woz: study 'nope' has never been served from this store; check --data (or"
        " --database-url), or serve it once (woz serve) so woz knows its rules"
    )


async def test_withdrawing_an_unknown_participant_is_refused_unless_forced(
    woz: Woz, settings: Settings
) -> None:
    """A mistyped id is an error (exit 2) that leaves the real participant's data in place;
    `--force` withdraws a participant woz has never seen, so their later requests are refused."""
    await answer_task(woz, "P-0024", "hello", "hi")
    withdraw = ["--data", str(settings.data), "participants", "withdraw", "--study", "test-study"]
    code, out, err = await run_woz(*withdraw, "P-0042")
    assert code == 2 and out == ""
    assert err.startswith("woz: participant 'P-0042' is unknown in study 'test-study'")
    assert "--force" in err and len(err.strip().splitlines()) == 1
    assert len(await woz.store.list_records(woz.study.id)) == 1
    assert await woz.store.list_tombstones(woz.study.id) == []

    code, out, err = await run_woz(*withdraw, "--force", "P-0042")
    assert code == 0, err
    assert out.startswith("Withdrew participant p_") and "0 record(s) deleted" in out
    [tombstone] = await woz.store.list_tombstones(woz.study.id)
    assert len(await woz.store.list_records(woz.study.id)) == 1
    code, out, err = await run_woz(*withdraw, "P-0042")  # known now: by its tombstone
    assert code == 0 and "already withdrawn" in out, err
    async with woz.openai(max_retries=0) as client:
        with pytest.raises(openai.PermissionDeniedError, match="participant_withdrawn"):
            await client.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "hi"}], user="P-0042"
            )
    assert [t.subject for t in await woz.store.list_tombstones(woz.study.id)] == [tombstone.subject]


PAID_TOML = (
    PAGE_STUDY_TOML
    + """
[recruitment]
platform = "prolific"
completion_code = "DONE1"
screened_out_code = "NOCONSENT"
pay = 2.5
currency = "GBP"
expected_minutes = 15
"""
)


@pytest.mark.parametrize("study_toml", [PAID_TOML], indirect=True)
async def test_report_participants_lists_codes_times_and_rates_against_prolific(
    woz: Woz, settings: Settings
) -> None:
    """One CSV row per session, with the code to approve and the effective hourly rate
    against Prolific's minimum (6.00) and recommended (9.00) rates; a withdrawn participant's
    row stays, payable; the summary names the codes and alerts on a low median rate."""
    async with page_client(woz, cookies=False) as refusing:
        await refusing.open("?PROLIFIC_PID=x1&SESSION_ID=sub-refused")
        await refusing.call("POST", "refuse")
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    for n, (minutes, withdraw) in enumerate([(20, False), (30, True)]):
        participant = f"p_seeded{n}"
        session = await woz.store.open_page_session(
            PageSession(
                study_id=woz.study.id,
                subject=tombstone_of(participant),
                participant=participant,
                platform="prolific",
                platform_session=f"sub-{minutes}",
                started_at=start,
            )
        )
        session.finished_at = start + timedelta(minutes=minutes)
        session.outcome, session.code = "completed", "DONE1"
        await woz.store.save_page_session(session)
        if withdraw:
            await woz.runtime.participants.withdraw(participant, "test")
    data = ["--data", str(settings.data)]
    code, out, err = await run_woz(*data, "report", "participants", "--study", woz.study.id)
    assert code == 0, err
    rows = {row["platform_session"]: row for row in csv.DictReader(out.splitlines())}
    assert rows["sub-refused"]["outcome"] == "screened_out"
    assert rows["sub-refused"]["code"] == "NOCONSENT"
    assert rows["sub-refused"]["action"] == "screened_out"
    assert rows["sub-refused"]["hourly_rate"] == ""
    twenty, thirty = rows["sub-20"], rows["sub-30"]
    assert (twenty["participant"], thirty["participant"]) == ("p_seeded0", "")  # withdrawn
    assert [
        twenty[k] for k in ("minutes", "hourly_rate", "below_minimum", "below_recommended")
    ] == [
        "20.0",
        "7.50",
        "no",
        "yes",
    ]
    assert [thirty[k] for k in ("action", "code", "hourly_rate", "below_minimum")] == [
        "approve",
        "DONE1",
        "5.00",
        "yes",
    ]
    assert twenty["prolific_minimum"] == "6.00" and twenty["prolific_recommended"] == "9.00"
    assert "woz: codes to approve: DONE1 (2)" in err
    assert "median time 25.0 min for 2.50 GBP: 6.00 GBP/hour" in err
    assert "longer than the expected 15 min" in err
    assert "below Prolific's recommended 9.00 GBP/hour" in err
    code, out, err = await run_woz(
        *data, "participants", "show", "--study", woz.study.id, "--pseudonym", "p_seeded0"
    )
    assert code == 0, err
    shown = json.loads(out)["page_session"]
    assert shown["code"] == "DONE1" and shown["platform_session"] == "sub-20"
    code, _, err = await run_woz(*data, "report", "participants", "--study", "no-such-study")
    assert code == 2 and "never been served" in err
