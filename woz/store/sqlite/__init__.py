"""The embedded store: one SQLite file in WAL mode, written with group commit.

Each concept's tables live in a module of their own (`sqlite_keys`,
`sqlite_records`, ...) on the shared plumbing of `database.SQLiteDatabase`;
`SQLiteStore` combines them into the whole `Store` protocol.
"""

from __future__ import annotations

from woz.store.sqlite.arms import ArmTables
from woz.store.sqlite.audit import AuditTables
from woz.store.sqlite.keys import KeyTables
from woz.store.sqlite.media import MediaTables
from woz.store.sqlite.page_sessions import PageSessionTables
from woz.store.sqlite.participants import ParticipantTables
from woz.store.sqlite.presence import PresenceTables
from woz.store.sqlite.questionnaires import QuestionnaireTables
from woz.store.sqlite.records import RecordTables
from woz.store.sqlite.responses import ResponseTables


class SQLiteStore(
    KeyTables,
    RecordTables,
    ResponseTables,
    ArmTables,
    ParticipantTables,
    PageSessionTables,
    PresenceTables,
    QuestionnaireTables,
    AuditTables,
    MediaTables,
):
    """`Store` on a SQLite file (`path`), or `:memory:`; uploaded media in the folder
    `media` beside the file (or the folder given)."""
