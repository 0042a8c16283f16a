"""The durable local spool: every decision and outcome is written here before it is sent.

One SQLite file (stdlib sqlite3, WAL) with one row per operation, in the order the agent made
them. A row is deleted only once the API has answered for it, so a crash, an outage or a restart
loses nothing: the next client on the same file sends what is left, in order. Rows the API refused
for good (a conflicting id, invalid content) move to the `dead` table with the reason instead of
blocking everything behind them.

One client (one process) per spool file: the rows are not claimed, so two senders on one file
would send the same rows twice (harmless for the API, which de-duplicates by id, but wasteful).
"""

import fcntl
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["decision", "outcome"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    reason TEXT NOT NULL,
    died_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_by_key ON dead (kind, key);
"""


class SpoolInUse(Exception):
    """Another client (in this or another process) has the spool file open."""


class SpoolFull(Exception):
    """The spool holds max_spool unsent items: the API has been unreachable for a long time."""


@dataclass(frozen=True)
class Op:
    """One spooled operation: a decision (key = its id, body = the DecisionIn JSON) or an
    outcome (key = the decision's id, body = the OutcomeIn JSON)."""

    seq: int
    kind: Kind
    key: str
    body: dict[str, Any]


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    kind: Kind
    key: str
    body: dict[str, Any]
    reason: str
    died_at: float


class Spool:
    """Thread-safe: the agent's thread appends while the sender thread reads and deletes."""

    def __init__(self, path: str | Path, *, max_items: int) -> None:
        self.path = Path(path)
        self.max_items = max_items
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One client per spool: two senders draining one file would resend each other's operations,
        # and an old outcome resent after a correction would overwrite the correction.
        self._owner = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115 - held until close
        try:
            fcntl.flock(self._owner, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._owner.close()
            raise SpoolInUse(
                f"the memclient spool {self.path} is in use by another client: give each client its own spool_path"
            ) from None
        self._lock = threading.Lock()
        # Autocommit (isolation_level=None): each statement is its own transaction unless we open
        # one, so nothing stays uncommitted when the process dies.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an append has reached the disk before log_decision returns.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._count = self._db.execute("SELECT COUNT(*) FROM ops").fetchone()[0]

    def append(self, kind: Kind, key: str, body: dict[str, Any]) -> int:
        with self._lock:
            if self._count >= self.max_items:
                raise SpoolFull(
                    f"the memclient spool {self.path} holds {self._count} unsent items, its limit "
                    f"(max_spool={self.max_items}): the API has not accepted anything for a while. "
                    "Nothing was lost; restore the API (or raise max_spool) and the spool drains in order."
                )
            cursor = self._db.execute(
                "INSERT INTO ops (kind, key, body, created_at) VALUES (?, ?, ?, ?)",
                (kind, key, json.dumps(body, separators=(",", ":")), time.time()),
            )
            self._count += 1
            return cursor.lastrowid

    def head(self, limit: int) -> list[Op]:
        """The oldest `limit` operations, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, kind, key, body FROM ops ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [Op(seq=seq, kind=kind, key=key, body=json.loads(body)) for seq, kind, key, body in rows]

    def remove(self, seqs: list[int]) -> None:
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            deleted = self._db.executemany("DELETE FROM ops WHERE seq = ?", [(seq,) for seq in seqs]).rowcount
            self._db.execute("COMMIT")
            self._count -= deleted

    def bury(self, seq: int, reason: str) -> None:
        """Move one operation to the dead letters, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO dead (seq, kind, key, body, created_at, reason, died_at) "
                "SELECT seq, kind, key, body, created_at, ?, ? FROM ops WHERE seq = ?",
                (reason, time.time(), seq),
            )
            deleted = self._db.execute("DELETE FROM ops WHERE seq = ?", (seq,)).rowcount
            self._db.execute("COMMIT")
            self._count -= deleted

    def is_dead(self, kind: Kind, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM dead WHERE kind = ? AND key = ?", (kind, key)).fetchone() is not None

    def pending(self) -> int:
        with self._lock:
            return self._count

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute("SELECT seq, kind, key, body, reason, died_at FROM dead ORDER BY seq").fetchall()
        return [
            DeadLetter(seq=seq, kind=kind, key=key, body=json.loads(body), reason=reason, died_at=died_at)
            for seq, kind, key, body, reason, died_at in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._owner.close()  # releases the file lock
