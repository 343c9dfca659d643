"""The session store: one SQLite database of recordings, private to the user.

Layout and guarantees (details in docs/store.md):

* one file, by default ``platformdirs.user_data_path("posture-companion")/"sessions.sqlite3"``,
  in a 0700 directory, the file 0600 (health data);
* WAL journal with ``synchronous=FULL``: a committed transaction survives kill -9 and power
  loss; the :class:`~host.recording.recorder.Recorder` commits at least once per second;
* ``secure_delete`` so deleted sessions do not linger in free pages;
* schema versioned in ``PRAGMA user_version`` with forward migrations (host/recording/schema.py);
* raw samples in compressed int16 chunks (host/recording/codec.py), per-second posture
  summaries in compressed column chunks (host/recording/summary.py), events as JSON rows.

Every SQLite failure surfaces as :class:`~host.errors.StoreError` naming the file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import platformdirs

from host.errors import ConfigError, StoreError
from host.private_dirs import make_private_dirs
from host.recording.codec import PackedChunk, pack_samples, split_for_packing, unpack_samples
from host.recording.schema import MIGRATIONS, SCHEMA_VERSION
from host.recording.summary import (
    PostureLike,
    SecondSummaries,
    decode_summaries,
    encode_summaries,
    summarize_seconds,
)
from host.samples import SampleBlock

__all__ = ["SessionInfo", "SessionStore", "StoredEvent", "UnknownSessionError", "default_db_path"]

logger = logging.getLogger(__name__)

_APP = "posture-companion"
# SQLite primary result codes of a write that cannot happen now but may later: SQLITE_BUSY,
# SQLITE_LOCKED, SQLITE_FULL (disk or max_page_count).
_WRITE_BLOCKED = {5, 6, 13}
_SQLITE_MAGIC = b"SQLite format 3\x00"


def default_db_path() -> Path:
    """Where the session database lives unless ``--db`` says otherwise."""
    return platformdirs.user_data_path(_APP) / "sessions.sqlite3"


class UnknownSessionError(ConfigError):
    """A session id that is not in the database (a usage error: exit code 2)."""


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One recorded session.

    Attributes:
        id: session id.
        started_at: wall-clock start (timezone-aware); session time t_s = 0 is close to it.
        ended_at: wall-clock end, None while recording or after a crash.
        device: device string as given (may contain a Bluetooth address: redact before sharing).
        source: ``live`` or ``import``.
        placement: sensor placement (``lumbar`` ...).
        pseudonym: the wearer's study ID.
        device_info: what the sensor reported about itself.
        calibration: calibration in use at the start (JSON of calibration.model.Calibration).
        policy: alert policy in use.
        n_samples: raw samples stored.
        t_first_s: session time of the first sample, s.
        t_last_s: session time of the last sample, s.
    """

    id: int
    started_at: datetime
    ended_at: datetime | None
    device: str
    source: str
    placement: str
    pseudonym: str
    device_info: dict[str, object]
    calibration: dict[str, object] | None
    policy: dict[str, object] | None
    n_samples: int
    t_first_s: float | None
    t_last_s: float | None

    @property
    def duration_s(self) -> float:
        """Span of the stored samples, s (0 when there are none)."""
        if self.t_first_s is None or self.t_last_s is None:
            return 0.0
        return self.t_last_s - self.t_first_s


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event: ``kind`` in alert, calibration, link, gap, note...; ``t_s`` session time, s."""

    t_s: float
    kind: str
    data: dict[str, object]


def _check_file(path: Path) -> None:
    """Refuse a file that is not an intact SQLite database, before SQLite half-opens it."""
    try:
        size = path.stat().st_size
        if size == 0:
            return  # created but never written: a new database
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the session database: {exc}") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreError(
            f"{path}: not a session database (no SQLite header); "
            "pass another file with --db or move this one aside"
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The in-header size is only valid when its "version valid for" matches the change counter.
    # A crash during a checkpoint can leave the header ahead of the file while the WAL still
    # holds every page: SQLite completes that on open, so only judge a file without a WAL.
    wal = path.with_name(path.name + "-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if not wal_pending and header[92:96] == header[24:28] and pages * page_size > size:
        raise StoreError(
            f"{path}: the session database is truncated ({size} of {pages * page_size} bytes); "
            "restore it from a backup or move it aside (other database files are unaffected)"
        )


class SessionStore:
    """A session database (use :meth:`open`). Thread-safe: one lock around one connection."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, path: Path | None = None, *, busy_timeout_s: float = 10.0) -> SessionStore:
        """Open (creating or migrating) a session database.

        Args:
            path: database file; None for :func:`default_db_path`.
            busy_timeout_s: how long a write waits for another program's write lock before
                failing with StoreError ("database is locked"); the live recorder uses a short
                one so a locked database never stalls monitoring.

        Raises:
            StoreError: not a database, truncated or damaged, or written by a newer version.
        """
        path = Path(path) if path is not None else default_db_path()
        try:
            make_private_dirs(path.parent)  # the folders it creates: 0700
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            elif stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)  # health data: readable by the user only
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the session database: {exc}") from exc
        _check_file(path)
        try:
            db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the session database: {exc}") from exc
        store = cls(db, path)
        try:
            store._setup()
        except BaseException:
            db.close()
            raise
        return store

    def _setup(self) -> None:
        with self._guard():
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA secure_delete=ON")
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: written by a newer Posture Companion (schema {version}, this "
                    f"version reads up to {SCHEMA_VERSION}); update the program"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    # another program may have migrated it meanwhile (two starting at once)
                    if int(self._db.execute("PRAGMA user_version").fetchone()[0]) >= target:
                        self._db.execute("COMMIT")
                        continue
                    logger.info("migrating %s to schema %d", self.path, target)
                    for statement in MIGRATIONS[target].split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version={target}")
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            # reading the schema touches every table's root page: damage shows up here
            self._db.execute("SELECT count(*) FROM sessions").fetchone()
            if self._meta("study_id") is None:
                self._db.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('study_id', ?)",
                    (f"PC-{secrets.token_hex(3).upper()}",),
                )

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                if getattr(exc, "sqlite_errorcode", -1) & 0xFF in _WRITE_BLOCKED:
                    # not damage: the disk is full or another program holds the write lock
                    raise StoreError(
                        f"{self.path}: cannot write the session database: {exc}"
                    ) from exc
                raise StoreError(
                    f"{self.path}: the session database is damaged or unusable ({exc}); "
                    "restore it from a backup or move it aside"
                ) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one atomic, durable commit (nestable; the outermost commits)."""
        with self._guard():
            if self._depth == 0:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0 and self._db.in_transaction:
                    # (SQLite may already have rolled back itself, e.g. on a full disk)
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                try:
                    self._db.execute("COMMIT")
                except sqlite3.Error:
                    # a COMMIT that failed (disk full, I/O error) may leave the transaction
                    # open; end it so the next write starts clean (SQLite's advice)
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                    raise

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def study_id(self) -> str:
        """The random pseudonym of this store's wearer (made when the database was created)."""
        with self._guard():
            return self._meta("study_id") or "PC-UNKNOWN"

    # ------------------------------------------------------------------ writing

    def create_session(
        self,
        *,
        device: str,
        source: str,
        device_info: dict[str, object] | None = None,
        calibration: dict[str, object] | None = None,
        placement: str = "lumbar",
        policy: dict[str, object] | None = None,
        started_at: datetime | None = None,
        pseudonym: str | None = None,
    ) -> int:
        """Start a session; returns its id. ``started_at`` defaults to now (local offset)."""
        start = started_at if started_at is not None else datetime.now(UTC).astimezone()
        if start.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO sessions(started_at, device, source, placement, pseudonym,"
                " device_info, calibration, policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    start.isoformat(),
                    device,
                    source,
                    placement,
                    pseudonym or self.study_id,
                    json.dumps(device_info or {}),
                    None if calibration is None else json.dumps(calibration),
                    None if policy is None else json.dumps(policy),
                ),
            )
            return int(cursor.lastrowid or 0)

    def append_samples(self, session_id: int, block: SampleBlock) -> None:
        """Store raw samples (time order, after what is stored) as packed chunks."""
        if len(block) == 0:
            return
        chunks = [pack_samples(piece) for piece in split_for_packing(block)]
        with self.transaction():
            self._db.executemany(
                "INSERT INTO sample_chunks(session_id, t0_s, period_s, n, accel_scale,"
                " gyro_scale, seq0, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (session_id, c.t0_s, c.period_s, c.n, c.accel_scale_m_s2,
                     c.gyro_scale_rad_s, c.seq0, c.payload)
                    for c in chunks
                ],
            )  # fmt: skip
            self._db.execute(
                "UPDATE sessions SET n_samples = n_samples + ?,"
                " t_first_s = coalesce(t_first_s, ?), t_last_s = ? WHERE id = ?",
                (len(block), float(block.t_s[0]), float(block.t_s[-1]), session_id),
            )

    def append_summaries(self, session_id: int, summaries: SecondSummaries) -> None:
        """Store per-second summaries (seconds after those already stored)."""
        if len(summaries) == 0:
            return
        with self.transaction():
            self._db.execute(
                "INSERT INTO summary_chunks(session_id, sec0, n, payload) VALUES (?, ?, ?, ?)",
                (session_id, int(summaries.sec[0]), len(summaries), encode_summaries(summaries)),
            )

    def append_posture(self, session_id: int, posture: PostureLike) -> None:
        """Summarise per-sample posture into seconds and store them (batch import path).

        Every second the block touches is written, so pass whole recordings or whole seconds;
        live recording goes through the Recorder, which holds back the unfinished second.
        """
        self.append_summaries(session_id, summarize_seconds(posture))

    def add_event(self, session_id: int, t_s: float, kind: str, data: dict[str, object]) -> None:
        """Store an event (alert, calibration, link change, gap...) at session time ``t_s``."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO events(session_id, t_s, kind, data) VALUES (?, ?, ?, ?)",
                (session_id, float(t_s), kind, json.dumps(data, default=str)),
            )

    def set_session_header(
        self,
        session_id: int,
        *,
        calibration: dict[str, object] | None = None,
        policy: dict[str, object] | None = None,
    ) -> None:
        """Replace the calibration and/or alert policy stored with a session (None: keep).

        A live session starts before its upright calibration is done and may change policy;
        the header holds the latest, the events hold the history.
        """
        with self.transaction():
            if calibration is not None:
                self._db.execute(
                    "UPDATE sessions SET calibration = ? WHERE id = ?",
                    (json.dumps(calibration), session_id),
                )
            if policy is not None:
                self._db.execute(
                    "UPDATE sessions SET policy = ? WHERE id = ?", (json.dumps(policy), session_id)
                )

    def end_session(self, session_id: int) -> None:
        """Mark a session finished and merge its summary chunks into one (faster reading).

        The mark is committed first on its own: if the merge cannot be written (a full disk),
        the session is still finished, with its summaries left in several chunks.
        """
        with self.transaction():
            self._db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ?",
                (datetime.now(UTC).astimezone().isoformat(), session_id),
            )
        summaries = self.summaries(session_id)
        try:
            with self.transaction():
                self._db.execute("DELETE FROM summary_chunks WHERE session_id = ?", (session_id,))
                self.append_summaries(session_id, summaries)
        except StoreError as exc:
            logger.warning("session %d: summaries left unmerged: %s", session_id, exc)

    def delete_session(self, session_id: int) -> None:
        """Delete a session and everything recorded in it (overwritten on disk: secure_delete)."""
        self.session(session_id)
        with self.transaction():
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ------------------------------------------------------------------ reading

    _COLUMNS = (
        "id, started_at, ended_at, device, source, placement, pseudonym, device_info,"
        " calibration, policy, n_samples, t_first_s, t_last_s"
    )

    @staticmethod
    def _info(row: tuple[object, ...]) -> SessionInfo:
        def load(text: object) -> dict[str, object] | None:
            return None if text is None else dict(json.loads(str(text)))

        return SessionInfo(
            id=int(str(row[0])),
            started_at=datetime.fromisoformat(str(row[1])),
            ended_at=None if row[2] is None else datetime.fromisoformat(str(row[2])),
            device=str(row[3]),
            source=str(row[4]),
            placement=str(row[5]),
            pseudonym=str(row[6]),
            device_info=load(row[7]) or {},
            calibration=load(row[8]),
            policy=load(row[9]),
            n_samples=int(str(row[10])),
            t_first_s=None if row[11] is None else float(str(row[11])),
            t_last_s=None if row[12] is None else float(str(row[12])),
        )

    def sessions(self) -> list[SessionInfo]:
        """All sessions, oldest first."""
        with self._guard():
            rows = self._db.execute(f"SELECT {self._COLUMNS} FROM sessions ORDER BY started_at, id")
            return [self._info(tuple(r)) for r in rows.fetchall()]

    def session(self, session_id: int) -> SessionInfo:
        """One session.

        Raises:
            UnknownSessionError: no such id.
        """
        with self._guard():
            row = self._db.execute(
                f"SELECT {self._COLUMNS} FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
        if row is None:
            raise UnknownSessionError(
                f"no session {session_id} in {self.path}; 'posture sessions' lists them"
            )
        return self._info(tuple(row))

    def samples(self, session_id: int) -> SampleBlock:
        """All raw samples of a session (dequantised; see host/recording/codec.py)."""
        self.session(session_id)
        with self._guard():
            rows = self._db.execute(
                "SELECT n, t0_s, period_s, accel_scale, gyro_scale, seq0, payload"
                " FROM sample_chunks WHERE session_id = ? ORDER BY t0_s, id",
                (session_id,),
            ).fetchall()
        blocks = [unpack_samples(PackedChunk(*row)) for row in rows]
        if len({b.has_gyro for b in blocks}) > 1:
            blocks = [SampleBlock(b.t_s, b.accel_m_s2, None, b.seq) for b in blocks]
        return SampleBlock.concatenate(blocks)

    def summaries(self, session_id: int) -> SecondSummaries:
        """Per-second posture summaries of a session, seconds ascending."""
        self.session(session_id)
        with self._guard():
            rows = self._db.execute(
                "SELECT payload, n FROM summary_chunks WHERE session_id = ? ORDER BY sec0, id",
                (session_id,),
            ).fetchall()
        return SecondSummaries.concatenate([decode_summaries(bytes(p), int(n)) for p, n in rows])

    def events(self, session_id: int, kind: str | None = None) -> list[StoredEvent]:
        """Events of a session in time order (optionally only one ``kind``)."""
        self.session(session_id)
        query = "SELECT t_s, kind, data FROM events WHERE session_id = ?"
        params: tuple[object, ...] = (session_id,)
        if kind is not None:
            query += " AND kind = ?"
            params += (kind,)
        with self._guard():
            rows = self._db.execute(query + " ORDER BY t_s, id", params).fetchall()
        return [StoredEvent(float(t), str(k), dict(json.loads(d))) for t, k, d in rows]

    def storage_bytes(self, session_id: int) -> int:
        """Bytes of sample and summary payload a session takes (without SQLite overhead)."""
        with self._guard():
            a = self._db.execute(
                "SELECT coalesce(sum(length(payload)), 0) FROM sample_chunks WHERE session_id = ?",
                (session_id,),
            ).fetchone()[0]
            b = self._db.execute(
                "SELECT coalesce(sum(length(payload)), 0) FROM summary_chunks WHERE session_id = ?",
                (session_id,),
            ).fetchone()[0]
        return int(a) + int(b)

    def checkpoint(self) -> None:
        """Move the WAL into the main file (e.g. before measuring or copying the database)."""
        with self._guard():
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
