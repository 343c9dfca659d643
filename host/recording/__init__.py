"""Session recording: the SQLite session store, the live recorder and CSV/JSONL export."""

from host.recording.recorder import Recorder
from host.recording.store import SessionInfo, SessionStore, StoredEvent, default_db_path
from host.recording.summary import SecondSummaries, SummaryAccumulator, summarize_seconds

__all__ = [
    "Recorder",
    "SecondSummaries",
    "SessionInfo",
    "SessionStore",
    "StoredEvent",
    "SummaryAccumulator",
    "default_db_path",
    "summarize_seconds",
]
