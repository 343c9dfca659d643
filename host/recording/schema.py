"""Schema of the session database and its migrations.

The version lives in SQLite's ``PRAGMA user_version``. :data:`MIGRATIONS` maps each version to
the SQL that brings a database from the previous version to it; a new release appends an entry
and never edits an old one. A database newer than :data:`SCHEMA_VERSION` is refused, because an
older program cannot know what the newer columns mean.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,              -- ISO 8601 with UTC offset
    ended_at    TEXT,
    device      TEXT NOT NULL,              -- device string as given (may hold an address)
    source      TEXT NOT NULL,              -- live | import | ...
    placement   TEXT NOT NULL,              -- lumbar, thoracic, ... (never compare across)
    pseudonym   TEXT NOT NULL,
    device_info TEXT,                       -- JSON
    calibration TEXT,                       -- JSON (calibration.model.Calibration.to_dict)
    policy      TEXT,                       -- JSON (alert policy active during the session)
    n_samples   INTEGER NOT NULL DEFAULT 0,
    t_first_s   REAL,
    t_last_s    REAL
);
CREATE TABLE sample_chunks (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t0_s        REAL NOT NULL,
    period_s    REAL NOT NULL,
    n           INTEGER NOT NULL,
    accel_scale REAL NOT NULL,
    gyro_scale  REAL,                       -- NULL: no gyroscope
    seq0        INTEGER,                    -- NULL: sequence unknown
    payload     BLOB NOT NULL               -- host/recording/codec.py
);
CREATE INDEX sample_chunks_by_session ON sample_chunks(session_id, t0_s);
CREATE TABLE summary_chunks (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    sec0        INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    payload     BLOB NOT NULL               -- host/recording/summary.py
);
CREATE INDEX summary_chunks_by_session ON summary_chunks(session_id, sec0);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    t_s         REAL NOT NULL,
    kind        TEXT NOT NULL,              -- alert, calibration, link, gap, note, ...
    data        TEXT NOT NULL               -- JSON object
);
CREATE INDEX events_by_session ON events(session_id, t_s);
"""

# version -> SQL run (in one transaction) to reach it from version - 1.
MIGRATIONS: dict[int, str] = {1: _V1}
SCHEMA_VERSION = max(MIGRATIONS)
