"""The Store contract, run against every backend (SQLite and PostgreSQL): the same tests.

Each test gets an empty store: SQLite in a temporary data folder, PostgreSQL in a
fresh schema of the run's database (`tests.databases`). "Another process" is a
second store object on the same database (and, for PostgreSQL, its own data
folder), which shares nothing with the first but the database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from tests.databases import fresh_schema
from tests.unit.records import T0, make_record
from woz.config import Settings
from woz.models.pseudonyms import tombstone_of
from woz.models.questionnaire import Feedback, QuestionnaireAnswers
from woz.models.record import RecordStatus, Timings
from woz.models.research import (
    ConsentRecord,
    DisclosureEvent,
    DisclosureKind,
    OperatorTraining,
    PageSession,
    PresenceEvent,
)
from woz.research.audit import verify_chain
from woz.store.arms import ArmDraw
from woz.store.base import Store
from woz.store.factory import store_for

MEDIA_ID = "med_" + "ab" * 16 + ".wav"


@dataclass
class Backend:
    """A database, ways to open stores on it, and a way around the store (`raw`)."""

    name: str
    settings: Settings
    raw: Callable[[str], None]

    def new_store(self, data: Path | None = None) -> Store:
        """A store on the same database, as another process would open it."""
        settings = self.settings
        if data is not None:
            settings = settings.model_copy(update={"data": data})
        return store_for(settings)


def _sqlite_raw(path: Path) -> Callable[[str], None]:
    def run(sql: str) -> None:
        with sqlite3.connect(path) as db:
            db.execute(sql)

    return run


def _postgres_raw(url: str) -> Callable[[str], None]:
    def run(sql: str) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql.encode())

    return run


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        settings = Settings(data=tmp_path / "data")
        yield Backend("sqlite", settings, _sqlite_raw(settings.database))
        return
    with fresh_schema() as url:
        settings = Settings(data=tmp_path / "data", database_url=url)
        yield Backend("postgres", settings, _postgres_raw(url))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = backend.new_store()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def other(backend: Backend, tmp_path: Path) -> AsyncIterator[Store]:
    """A second store on the same database, like a second woz process."""
    data = tmp_path / "other" if backend.name == "postgres" else None
    opened = backend.new_store(data)
    await opened.open()
    yield opened
    await opened.close()


def consent(subject: str, n: int = 1, study_id: str = "s") -> ConsentRecord:
    return ConsentRecord(
        id=f"con_{subject}_{n}",
        study_id=study_id,
        subject=subject,
        version=f"v{n}",
        text_sha256="0" * 64,
        method="page",
        scopes=["in_study_analysis"],
        granted_at=T0 + timedelta(minutes=n),
    )


# -- lifecycle and migrations ----------------------------------------------------


async def test_opening_twice_and_from_two_processes_migrates_once(
    backend: Backend, store: Store, other: Store
) -> None:
    """Both stores see one schema: what one writes, the other reads."""
    await store.add_key("k1", "s", "app", "App", "hash-1")
    again = backend.new_store()
    await again.open()
    try:
        found = await again.key_by_hash("hash-1")
        assert found is not None and found.id == "k1"
    finally:
        await again.close()
    assert (await other.key_by_hash("hash-1")) is not None


# -- keys --------------------------------------------------------------------------


async def test_a_study_secret_is_made_once(store: Store, other: Store) -> None:
    first = await store.study_secret("s", "Title")
    assert len(first) == 32
    assert await other.study_secret("s", "New title") == first
    assert await store.study_secret("t", "Other") != first


async def test_keys_are_found_by_hash_and_listed_per_study(store: Store) -> None:
    added = await store.add_key("k1", "s", "operator", "Olive", "h1")
    await store.add_key("k2", "s", "app", "App", "h2")
    await store.add_key("k3", "t", "researcher", "Rita", "h3")
    found = await store.key_by_hash("h1")
    assert found == added and found.role == "operator" and found.created_at.tzinfo
    assert await store.key_by_hash("nope") is None
    assert [k.id for k in await store.list_keys("s")] == ["k1", "k2"]
    with pytest.raises(Exception):  # noqa: B017  (each driver has its own IntegrityError)
        await store.add_key("k4", "s", "app", "Again", "h1")


async def test_a_revoked_key_and_its_sessions_open_nothing(store: Store, other: Store) -> None:
    """Revoking is durable, seen by every process, idempotent, and per key."""
    await store.add_key("k1", "s", "operator", "Olive", "h1")
    await store.add_key("k2", "t", "operator", "Otto", "h2")
    await store.add_console_session("live", "k1", datetime.now(UTC) + timedelta(hours=1))
    revoked = await other.revoke_key("k1")
    assert revoked is not None and revoked.id == "k1" and revoked.revoked_at is not None
    assert await store.key_by_hash("h1") is None
    assert await store.console_session("live") is None
    again = await store.revoke_key("k1")
    assert again is not None and again.revoked_at == revoked.revoked_at
    assert await store.revoke_key("nope") is None
    assert await store.key_by_hash("h2") is not None  # another study's key is untouched
    listed = await store.list_keys("s")
    assert [(k.id, k.revoked_at) for k in listed] == [("k1", revoked.revoked_at)]
    assert (await store.list_keys("t"))[0].revoked_at is None
    assert [k.id for k in await store.list_keys(None)] == ["k1", "k2"]


async def test_console_sessions_live_until_they_expire(store: Store) -> None:
    await store.add_key("k1", "s", "operator", "Olive", "h1")
    now = datetime.now(UTC)
    await store.add_console_session("live", "k1", now + timedelta(hours=1))
    await store.add_console_session("old", "k1", now - timedelta(seconds=1))
    session = await store.console_session("live")
    assert session is not None and session.id == "k1"
    assert await store.console_session("old") is None
    assert await store.console_session("unknown") is None


# -- records -----------------------------------------------------------------------


async def test_a_record_reads_back_as_committed_and_is_replaced_whole(store: Store) -> None:
    record = make_record("p_1")
    await store.commit_record(record)
    assert await store.get_record(record.id) == record
    changed = record.model_copy(update={"operator": "op_2", "status": RecordStatus.ANSWERED})
    await store.commit_record(changed)
    assert await store.get_record(record.id) == changed
    assert await store.get_record("rec_unknown") is None


async def test_delivery_marks_are_seen_by_the_next_read(store: Store, other: Store) -> None:
    record = make_record("p_1", status=RecordStatus.ANSWERED)
    await store.commit_record(record)
    at = T0 + timedelta(seconds=3)
    # The mark starts first (as the recorder's background task does), the read right after.
    _, read = await asyncio.gather(
        store.note_record_status(record.id, RecordStatus.DELIVERED, at), store.get_record(record.id)
    )
    assert read is not None and read.status == RecordStatus.DELIVERED
    assert read.timings.delivered_at == at
    seen_elsewhere = await other.get_record(record.id)
    assert seen_elsewhere is not None and seen_elsewhere.status == RecordStatus.DELIVERED
    await store.set_record_status(record.id, RecordStatus.CLIENT_GONE)
    gone = await other.get_record(record.id)
    assert gone is not None and gone.status == RecordStatus.CLIENT_GONE
    assert gone.timings.delivered_at is None


async def test_replays_counted_by_several_writers_add_up(store: Store, other: Store) -> None:
    record = make_record("p_1")
    await store.commit_record(record)
    await asyncio.gather(
        *(s.note_record_replayed(record.id) for s in [store, other] * 5),
    )
    read = await store.get_record(record.id)
    assert read is not None and read.replays == 10


async def test_a_wizard_error_is_flagged_and_cleared_in_its_study_only(store: Store) -> None:
    record = make_record("p_1")
    await store.commit_record(record)
    assert await store.set_wizard_error("s", record.id, "wrong fact") is True
    assert await store.set_wizard_error("t", record.id, "not mine") is False
    flagged = await store.get_record(record.id)
    assert flagged is not None and flagged.wizard_error == "wrong fact"
    await store.set_wizard_error("s", record.id, None)
    cleared = await store.get_record(record.id)
    assert cleared is not None and cleared.wizard_error is None


async def test_records_list_in_order_of_arrival_and_filter(store: Store) -> None:
    for n, (participant, operator) in enumerate([("a", "op_1"), ("b", "op_2"), ("a", "op_2")]):
        timings = Timings(received_at=T0 + timedelta(seconds=n))
        await store.commit_record(
            make_record(
                participant, id=f"rec_{n}", task_id=f"task_{n}", operator=operator
            ).model_copy(update={"timings": timings})
        )
    await store.commit_record(make_record("c", id="rec_x", task_id="task_x", study_id="t"))
    assert [r.id for r in await store.list_records("s")] == ["rec_0", "rec_1", "rec_2"]
    assert [r.id for r in await store.list_records("s", participant="a")] == ["rec_0", "rec_2"]
    assert [r.id for r in await store.list_records("s", operator="op_2")] == ["rec_1", "rec_2"]
    assert [r.id for r in await store.recent_records("s", 2)] == ["rec_2", "rec_1"]
    assert await store.last_task_at("s") == T0 + timedelta(seconds=2)
    assert await store.last_task_at("s", "b") == T0 + timedelta(seconds=1)
    assert await store.last_task_at("s", "nobody") is None


# -- responses ---------------------------------------------------------------------


async def test_responses_are_kept_per_study_and_forgotten(store: Store) -> None:
    await store.save_response("resp_1", "s", "p_1", "[1]", '{"id": "resp_1"}')
    assert await store.get_response("resp_1", "s") == "[1]"
    assert await store.get_response_object("resp_1", "s") == '{"id": "resp_1"}'
    assert await store.get_response("resp_1", "t") is None
    await store.save_response("resp_1", "s", "p_1", "[1, 2]", '{"id": "resp_1", "v": 2}')
    assert await store.get_response("resp_1", "s") == "[1, 2]"
    assert await store.delete_response("resp_1", "t") is False
    assert await store.delete_response("resp_1", "s") is True
    assert await store.get_response_object("resp_1", "s") is None
    assert await store.delete_response("resp_1", "s") is False


# -- participants, consent, disclosure, withdrawal ---------------------------------


async def test_participants_are_registered_once(store: Store) -> None:
    assert await store.participant_seen("s", "p_1") is False
    await store.register_participant("s", "p_1", T0)
    await store.register_participant("s", "p_1", T0 + timedelta(hours=1))
    await store.register_participant("s", "p_2", T0)
    await store.register_participant("t", "p_3", T0)
    assert await store.participant_seen("s", "p_1") is True
    assert await store.participant_count("s") == 2


async def test_consents_and_disclosures_list_in_order(store: Store) -> None:
    subject = tombstone_of("p_1")
    await store.add_consent(consent(subject, 2))
    await store.add_consent(consent(subject, 1))
    await store.add_consent(consent(tombstone_of("p_2"), 3))
    assert [c.version for c in await store.list_consents("s", subject)] == ["v1", "v2"]
    listed = await store.list_consents("s")
    assert [c.version for c in listed] == ["v1", "v2", "v3"]
    assert listed[0] == consent(subject, 1)
    for n, kind in enumerate([DisclosureKind.PRE_SESSION_NOTICE, DisclosureKind.DEBRIEFED]):
        await store.add_disclosure(
            DisclosureEvent(
                id=f"dis_{n}",
                study_id="s",
                subject=subject,
                kind=kind,
                at=T0 - timedelta(minutes=n),  # appended order wins over time
                details={"n": n},
            )
        )
    events = await store.list_disclosures("s", subject)
    assert [(e.id, e.details) for e in events] == [("dis_0", {"n": 0}), ("dis_1", {"n": 1})]
    assert await store.list_disclosures("s", tombstone_of("p_2")) == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE consents SET version = 'forged'",
        "DELETE FROM consents",
        "UPDATE disclosures SET kind = 'debriefed'",
        "DELETE FROM disclosures",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "DELETE FROM operator_consents",
        "UPDATE operator_training SET note = 'never'",
    ],
)
async def test_append_only_tables_refuse_changes_in_the_database(
    backend: Backend, store: Store, sql: str
) -> None:
    """Even a direct connection, around the store, cannot rewrite the research trail."""
    subject = tombstone_of("p_1")
    await store.add_consent(consent(subject))
    await store.add_operator_consent(consent("op_1"))
    await store.add_disclosure(
        DisclosureEvent(
            id="dis_1", study_id="s", subject=subject, kind=DisclosureKind.PRE_SESSION_NOTICE, at=T0
        )
    )
    await store.add_operator_training(
        OperatorTraining(id="tr_1", study_id="s", operator="op_1", trained_at=T0, note="ok")
    )
    await store.append_audit("s", "researcher", "consent.given", subject)
    with pytest.raises(Exception, match="append-only"):
        await asyncio.to_thread(backend.raw, sql)
    assert len(await store.list_consents("s")) == 1
    assert verify_chain("s", await store.list_audit("s")).ok


async def test_erasure_removes_the_participant_and_later_writes_are_dropped(
    store: Store, other: Store
) -> None:
    await store.register_participant("s", "p_1", T0)
    await store.commit_record(make_record("p_1"))
    await store.commit_record(make_record("p_2"))
    await store.save_response("resp_1", "s", "p_1", "[]", "{}")
    await store.assign_arm("s", "p_1", ArmDraw("fixed", ("a",)))
    tombstone = await store.erase_participant("s", "p_1", T0 + timedelta(days=1))
    subject = tombstone_of("p_1")
    assert (tombstone.subject, tombstone.records_deleted) == (subject, 1)
    assert tombstone.withdrawn_at == T0 + timedelta(days=1)
    assert await store.erase_participant("s", "p_1", T0 + timedelta(days=2)) == tombstone
    assert [r.participant for r in await store.list_records("s")] == ["p_2"]
    assert await store.get_response("resp_1", "s") is None
    assert await store.arm_of("s", "p_1") is None
    assert await store.arm_counts("s") == {"a": 1}  # kept under the subject
    assert await store.participant_count("s") == 0
    assert await store.participant_seen("s", "p_1") is True
    # A task in flight during the withdrawal, finishing on another process, leaves nothing.
    await other.commit_record(make_record("p_1", id="rec_late", task_id="task_late"))
    await other.save_response("resp_2", "s", "p_1", "[]", "{}")
    await store.register_participant("s", "p_1", T0 + timedelta(days=3))
    assert await store.get_record("rec_late") is None
    assert await store.get_response("resp_2", "s") is None
    assert await store.participant_count("s") == 0
    assert await store.tombstone("s", subject) == tombstone
    assert await store.list_tombstones("s") == [tombstone]
    assert await store.tombstone("s", tombstone_of("p_2")) is None


async def test_erasure_racing_commits_leaves_no_record_behind(store: Store, other: Store) -> None:
    """Commits of the participant's records from two processes while they withdraw:
    afterwards none of their records is kept, whatever the interleaving."""
    commits = [
        s.commit_record(make_record("p_1", id=f"rec_{n}", task_id=f"task_{n}"))
        for n, s in enumerate([store, other] * 10)
    ]
    await asyncio.gather(*commits, store.erase_participant("s", "p_1", T0))
    assert await store.list_records("s", participant="p_1") == []


# -- questionnaires and feedback -----------------------------------------------------


def answers(participant: str, questionnaire: str = "sus", minutes: int = 0) -> QuestionnaireAnswers:
    return QuestionnaireAnswers(
        study_id="s",
        participant=participant,
        questionnaire=questionnaire,
        when="after",
        arm="a",
        answers={"sus_1": 4, "comment": "fine, thé", "tags": ["x", "y"]},
        submitted_at=T0 + timedelta(minutes=minutes),
    )


def thumbs(participant: str, record_id: str, rating: Literal[-1, 1], minutes: int) -> Feedback:
    return Feedback(
        study_id="s",
        record_id=record_id,
        participant=participant,
        rating=rating,
        comment=f"said at {minutes}",
        at=T0 + timedelta(minutes=minutes),
    )


async def test_answers_are_kept_once_per_questionnaire(store: Store, other: Store) -> None:
    first = answers("p_1", minutes=1)
    assert await store.save_answers(first) is True
    assert await other.save_answers(answers("p_1", minutes=2)) is False  # submitted already
    assert await store.save_answers(answers("p_1", "pre", minutes=0)) is True
    assert await store.save_answers(answers("p_2", minutes=3)) is True
    kept = await other.list_answers("s", "p_1")
    assert [a.questionnaire for a in kept] == ["pre", "sus"]
    assert kept[1] == first
    assert [a.participant for a in await store.list_answers("s")] == ["p_1", "p_1", "p_2"]
    assert await store.list_answers("other-study") == []


async def test_feedback_is_replaced_and_listed_in_order_given(store: Store, other: Store) -> None:
    assert await store.save_feedback(thumbs("p_1", "rec_a", 1, 1)) is True
    assert await store.save_feedback(thumbs("p_2", "rec_b", -1, 2)) is True
    assert await other.save_feedback(thumbs("p_1", "rec_a", -1, 3)) is True
    listed = await store.list_feedback("s")
    assert [(f.record_id, f.rating, f.comment) for f in listed] == [
        ("rec_b", -1, "said at 2"),
        ("rec_a", -1, "said at 3"),
    ]
    assert [f.record_id for f in await other.list_feedback("s", "p_2")] == ["rec_b"]


async def test_an_answer_is_read_once(store: Store, other: Store) -> None:
    """The first read is kept; another from any process changes nothing."""
    assert await store.mark_read("s", "rec_a", "p_1", T0) is True
    assert await other.mark_read("s", "rec_a", "p_1", T0 + timedelta(minutes=1)) is False
    assert await other.mark_read("s", "rec_b", "p_2", T0 + timedelta(minutes=2)) is True
    assert await store.list_reads("s", "p_1") == {"rec_a": T0}
    assert set(await store.list_reads("s")) == {"rec_a", "rec_b"}


async def test_erasure_takes_answers_and_feedback_and_drops_later_ones(
    store: Store, other: Store
) -> None:
    await store.save_answers(answers("p_1"))
    await store.save_answers(answers("p_2"))
    await store.save_feedback(thumbs("p_1", "rec_a", 1, 1))
    await store.save_feedback(thumbs("p_2", "rec_b", 1, 1))
    await store.mark_read("s", "rec_a", "p_1", T0)
    await store.erase_participant("s", "p_1", T0)
    assert await store.list_reads("s") == {}
    assert await other.mark_read("s", "rec_c", "p_1", T0) is False
    assert [a.participant for a in await store.list_answers("s")] == ["p_2"]
    assert [f.participant for f in await store.list_feedback("s")] == ["p_2"]
    assert await other.save_answers(answers("p_1", "pre")) is False
    assert await other.save_feedback(thumbs("p_1", "rec_c", -1, 2)) is False
    assert await store.list_answers("s", "p_1") == []
    assert await store.list_feedback("s", "p_1") == []


# -- arms --------------------------------------------------------------------------


async def test_an_arm_never_changes(store: Store) -> None:
    draw = ArmDraw("balanced", ("a", "b"), seed=7)
    first = await store.assign_arm("s", "p_1", draw)
    assert first in ("a", "b")
    assert await store.assign_arm("s", "p_1", ArmDraw("fixed", ("zzz",))) == first
    assert await store.arm_of("s", "p_1") == first
    assert await store.arm_of("s", "p_2") is None
    assert await store.arm_of("t", "p_1") is None


async def test_positions_are_unique_with_several_writers(store: Store, other: Store) -> None:
    """Forty first requests at once from two processes: balanced blocks stay exact."""
    draw = ArmDraw("balanced", ("a", "b", "c", "d"), seed=3)
    participants = [f"p_{n}" for n in range(40)]
    arms = await asyncio.gather(
        *(
            (store if n % 2 else other).assign_arm("s", participant, draw)
            for n, participant in enumerate(participants)
        ),
        *(store.assign_arm("s", participant, draw) for participant in participants[:10]),
    )
    assert arms[40:] == arms[:10]  # a participant asked twice at once gets one arm
    assert await store.arm_counts("s") == {"a": 10, "b": 10, "c": 10, "d": 10}
    # Positions are 0..39 each once: the seeded list, replayed, gives the same counts.
    assert sorted(draw.choose(n) for n in range(40)) == sorted(arms[:40])


# -- operators ---------------------------------------------------------------------


async def test_operators_presence_consents_and_training(store: Store) -> None:
    for n, state in enumerate(["available", "paused", "offline"]):
        await store.add_presence(
            PresenceEvent(study_id="s", operator="op_1", state=state, at=T0 + timedelta(n))  # type: ignore[arg-type]
        )
    assert [e.state for e in await store.list_presence("s")] == ["available", "paused", "offline"]
    assert await store.list_presence("t") == []
    await store.add_operator_consent(consent("op_1", 2))
    await store.add_operator_consent(consent("op_2", 1))
    assert [c.subject for c in await store.list_operator_consents("s")] == ["op_2", "op_1"]
    training = OperatorTraining(id="tr_1", study_id="s", operator="op_1", trained_at=T0, note="ok")
    await store.add_operator_training(training)
    assert await store.list_operator_training("s") == [training]


# -- audit and study definitions ---------------------------------------------------


async def test_the_audit_chain_stays_verifiable_with_several_writers(
    store: Store, other: Store
) -> None:
    writes = [
        s.append_audit(study, "researcher", f"action.{n}", f"t_{n}", {"n": n, "text": "é"})
        for n in range(30)
        for s, study in ((store, "s"), (other, "s"), (other, "t"))
    ]
    await asyncio.gather(*writes)
    for study in ("s", "t"):
        entries = await store.list_audit(study)
        report = verify_chain(study, entries)
        assert report.ok, report.problems
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert len(await store.list_audit("s")) == 60
    assert await other.audited_studies() == ["s", "t"]


async def test_study_definitions_are_kept_as_served(store: Store, other: Store) -> None:
    assert await store.study_definition("s") is None
    assert await store.save_study_definition("s", '{"v": 1}') is True
    assert await other.save_study_definition("s", '{"v": 1}') is False
    assert await store.save_study_definition("s", '{"v": 2}') is True
    assert await other.study_definition("s") == '{"v": 2}'
    await store.save_study_definition("a", "{}")
    assert await store.served_studies() == ["a", "s"]


# -- media -------------------------------------------------------------------------


async def test_media_is_readable_by_every_process_until_deleted(
    store: Store, other: Store, tmp_path: Path
) -> None:
    upload = tmp_path / "upload.part"
    upload.write_bytes(b"RIFF" + bytes(range(256)) * 10)
    kept = await store.put_media(MEDIA_ID, upload)
    assert kept.read_bytes()[:4] == b"RIFF"
    elsewhere = await other.media_file(MEDIA_ID)
    assert elsewhere is not None and elsewhere.read_bytes() == kept.read_bytes()
    for bad in ("../woz.db", "med_x.wav", MEDIA_ID + "/", "med_" + "cd" * 16 + ".wav"):
        assert await store.media_file(bad) is None
    await store.delete_media(MEDIA_ID)
    assert await store.media_file(MEDIA_ID) is None
    assert await other.media_file(MEDIA_ID) is None
    await other.delete_media(MEDIA_ID)  # nothing to delete: no error


# -- page sessions ------------------------------------------------------------------


def page_session(subject: str = "t_1", participant: str | None = "p_1") -> PageSession:
    return PageSession(
        study_id="s",
        subject=subject,
        participant=participant,
        platform="prolific",
        platform_session="sess-1",
        platform_study="study-1",
        started_at=T0,
    )


async def test_a_page_session_is_opened_once_and_saved(store: Store, other: Store) -> None:
    """Two first visits make one session; a save overwrites the mutable fields only."""
    first, second = await asyncio.gather(
        store.open_page_session(page_session()),
        other.open_page_session(page_session().model_copy(update={"platform_session": "x"})),
    )
    assert first == second and first.started_at == T0
    assert first.platform_session in ("sess-1", "x")
    done = first.model_copy(
        update={
            "chat_started_at": T0 + timedelta(minutes=1),
            "chat_ended_at": T0 + timedelta(minutes=9),
            "ended_by": "time_limit",
            "finished_at": T0 + timedelta(minutes=10),
            "outcome": "timed_out",
            "code": "TIMEOUT1",
            "arm": "a",
            "consent_id": "con_1",
        }
    )
    await store.save_page_session(done)
    assert await other.get_page_session("s", "t_1") == done
    assert await other.get_page_session("s", "t_2") is None
    await store.open_page_session(
        page_session("t_0", "p_0").model_copy(update={"started_at": T0 - timedelta(minutes=1)})
    )
    assert [s.subject for s in await other.list_page_sessions("s")] == ["t_0", "t_1"]
    assert await other.list_page_sessions("t") == []


async def test_withdrawal_keeps_the_page_session_without_the_pseudonym(store: Store) -> None:
    """The completion code stays payable after a withdrawal; the pseudonym goes."""
    participant = "p_gone"
    subject = tombstone_of(participant)
    opened = await store.open_page_session(page_session(subject, participant))
    await store.save_page_session(opened.model_copy(update={"outcome": "completed", "code": "C1"}))
    await store.erase_participant("s", participant, T0)
    [kept] = await store.list_page_sessions("s")
    assert kept.participant is None and kept.code == "C1" and kept.subject == subject
