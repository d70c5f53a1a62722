"""What every bot process on one database must agree on about the rules: the version in use, the versions that
were (with their files, for `rules diff`), and the rule files admins sent to the bot."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.store.schema import RuleStateRow, RuleUploadRow, RuleVersionRow

STATE_ROW = 1
# The versions kept for `rules diff` and for telling contacts whose results changed: the newest, and the one in use.
KEPT_VERSIONS = 50


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RuleVersion:
    """A rule set that was put in use: its version (a hash of its files), when, by whom, what it holds."""

    version: str
    loaded_at: datetime
    loaded_by: str
    summary: str = ""


@dataclass(frozen=True)
class NewVersion:
    """A rule set just put in use by one process, to record for all of them."""

    version: str
    actor: str
    summary: str
    files: dict[str, Any]  # everything it was compiled from, as JSON (bot.reloading.sources_to_json)
    # The files packed already (pack(files)), as a reload's check does beside the bot; None: packed when recorded.
    packed: bytes | None = field(default=None, repr=False, compare=False)


def pack(files: dict[str, Any]) -> bytes:
    # The fastest level: a version's files pack to about a third either way, and a reload should spend its time
    # checking, not squeezing the last tenth out of a row kept for 50 versions.
    return zlib.compress(json.dumps(files, ensure_ascii=False, sort_keys=True).encode(), 1)


def unpack(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob).decode())


# A reload records its version in the database's one writing thread, where every chat's turn waits its turn too: the
# statements are written out once, here, rather than built for each reload (building them took most of the time).
# Both SQLite and PostgreSQL read them as written.
_VERSIONS, _STATE = RuleVersionRow.__table__.c, RuleStateRow.__table__.c
_RECORD = text(
    "INSERT INTO rule_versions (version, loaded_at, loaded_by, summary, sources) "
    "VALUES (:version, :loaded_at, :loaded_by, :summary, :sources) ON CONFLICT DO NOTHING"
).bindparams(bindparam("loaded_at", type_=_VERSIONS.loaded_at.type), bindparam("sources", type_=_VERSIONS.sources.type))
_SWITCH = text(
    "UPDATE rule_state SET version = :version, loaded_at = :loaded_at, loaded_by = :loaded_by, refused_version = NULL "
    "WHERE id = :id AND version <> :version"
).bindparams(bindparam("loaded_at", type_=_STATE.loaded_at.type))
# The newest KEPT_VERSIONS versions and the one in use stay.
_PRUNE = text(
    "DELETE FROM rule_versions WHERE version <> :version "
    "AND version NOT IN (SELECT version FROM rule_versions ORDER BY loaded_at DESC LIMIT :kept)"
)
_FIRST_STATE = text(
    "INSERT INTO rule_state (id, version, loaded_at, loaded_by) VALUES (:id, :version, :loaded_at, :loaded_by) "
    "ON CONFLICT DO NOTHING"
).bindparams(bindparam("loaded_at", type_=_STATE.loaded_at.type))


class RuleSetSql:
    """The statements, for SQLite and PostgreSQL (both have INSERT … ON CONFLICT DO NOTHING)."""

    def __init__(self, dialect: str):
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    def activate(self, connection: Connection, new: NewVersion, packed: bytes) -> bool:
        """Records the version (its files `packed`) as the one in use; True if this call switched to it (False: it
        already was, as when several processes saw the same change). The refusal remembered before is cleared."""
        values = {"version": new.version, "loaded_at": now(), "loaded_by": new.actor[:64], "id": STATE_ROW}
        connection.execute(_RECORD, {**values, "summary": new.summary, "sources": packed})
        switched = connection.execute(_SWITCH, values).rowcount
        connection.execute(_PRUNE, {"version": new.version, "kept": KEPT_VERSIONS})
        if not switched:
            switched = connection.execute(_FIRST_STATE, values).rowcount
        return bool(switched)

    def refuse(self, connection: Connection, version: str) -> bool:
        """Remembers that this version was refused; True the first time (so it is announced once)."""
        state = RuleStateRow.__table__.c
        first = connection.execute(
            update(RuleStateRow)
            .where(state.id == STATE_ROW, func.coalesce(state.refused_version, "") != version)
            .values(refused_version=version)
        ).rowcount
        if not first and connection.execute(select(state.id).where(state.id == STATE_ROW)).first() is None:
            first = connection.execute(
                self._insert(RuleStateRow)
                .values(id=STATE_ROW, version="", loaded_at=now(), loaded_by="", refused_version=version)
                .on_conflict_do_nothing()
            ).rowcount
        return bool(first)

    @staticmethod
    def active(connection: Connection) -> RuleVersion | None:
        state = RuleStateRow.__table__.c
        row = connection.execute(
            select(state.version, state.loaded_at, state.loaded_by).where(state.id == STATE_ROW, state.version != "")
        ).first()
        return RuleVersion(*row) if row is not None else None

    @staticmethod
    def recorded(connection: Connection, version: str) -> bool:
        v = RuleVersionRow.__table__.c
        return connection.execute(select(v.version).where(v.version == version)).first() is not None

    @staticmethod
    def versions(connection: Connection, limit: int) -> list[RuleVersion]:
        v = RuleVersionRow.__table__.c
        query = select(v.version, v.loaded_at, v.loaded_by, v.summary).order_by(v.loaded_at.desc()).limit(limit)
        return [RuleVersion(*row) for row in connection.execute(query).all()]

    @staticmethod
    def files(connection: Connection, version: str) -> bytes | None:
        """The packed files of a version (unpack them away from the database's thread)."""
        v = RuleVersionRow.__table__.c
        row = connection.execute(select(v.sources).where(v.version == version)).first()
        return row[0] if row is not None else None

    @staticmethod
    def uploads(connection: Connection) -> dict[str, str]:
        u = RuleUploadRow.__table__.c
        return dict(connection.execute(select(u.name, u.text).order_by(u.name)).all())

    def save_upload(self, connection: Connection, name: str, text: str, actor: str) -> None:
        statement = self._insert(RuleUploadRow).values(name=name, text=text, uploaded_by=actor[:64], uploaded_at=now())
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["name"],
                set_={
                    "text": statement.excluded.text,
                    "uploaded_by": statement.excluded.uploaded_by,
                    "uploaded_at": statement.excluded.uploaded_at,
                },
            )
        )

    @staticmethod
    def remove_upload(connection: Connection, name: str) -> bool:
        u = RuleUploadRow.__table__.c
        return bool(connection.execute(delete(RuleUploadRow).where(u.name == name)).rowcount)


@dataclass
class LocalRuleSets:
    """The same, in one process's memory, for stores without a database (tests, the terminal)."""

    state: RuleVersion | None = None
    refused: str | None = None
    history: dict[str, tuple[RuleVersion, dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, str] = field(default_factory=dict)

    def activate(self, new: NewVersion) -> bool:
        entry = RuleVersion(new.version, now(), new.actor, new.summary)
        self.history.setdefault(new.version, (entry, new.files))
        if self.state is not None and self.state.version == new.version:
            return False
        self.state, self.refused = entry, None
        return True

    def refuse(self, version: str) -> bool:
        first, self.refused = self.refused != version, version
        return first
