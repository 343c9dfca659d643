"""From the store to statistics: choosing sessions, loading their summaries, pseudonymising.

Everything that leaves the machine (exports, reports) goes through :func:`redact_device` and
:func:`public_device_info`: no Bluetooth address, no serial number, the wearer named by the
store's random study ID only (pseudonymised is not anonymous: notes/domain.md §10).
"""

from __future__ import annotations

import re
from datetime import date

from host.errors import ConfigError
from host.recording.store import SessionInfo, SessionStore
from host.reports.metrics import AlertMark, SessionData

__all__ = [
    "load_session_data",
    "parse_date",
    "public_device_info",
    "redact_device",
    "select_sessions",
]

_MAC = re.compile(r"(?i)\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b")
_PRIVATE_INFO_KEYS = frozenset({"address", "serial_number", "serial", "mac", "rssi_dbm"})


def redact_device(device: str) -> str:
    """A device string without Bluetooth addresses (``ble:AA:BB:…`` → ``ble:<address removed>``)."""
    return _MAC.sub("<address removed>", device)


def public_device_info(info: dict[str, object]) -> dict[str, object]:
    """Device details safe to share: no address, serial number or signal strength."""
    return {
        k: redact_device(v) if isinstance(v, str) else v
        for k, v in info.items()
        if k not in _PRIVATE_INFO_KEYS
    }


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` → date.

    Raises:
        ConfigError: not a date.
    """
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-30") from exc


def select_sessions(
    store: SessionStore,
    session_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[SessionInfo]:
    """One session, the sessions started between two dates (inclusive, local), or all.

    Raises:
        UnknownSessionError: ``session_id`` is not in the store.
        ConfigError: both a session and dates, dates reversed, or nothing matches.
    """
    if session_id is not None:
        if date_from is not None or date_to is not None:
            raise ConfigError("give either a SESSION or --from/--to, not both")
        return [store.session(session_id)]
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ConfigError(f"--to {date_to} is before --from {date_from}")
    chosen = [
        s
        for s in store.sessions()
        if (date_from is None or s.started_at.date() >= date_from)
        and (date_to is None or s.started_at.date() <= date_to)
    ]
    if not chosen:
        span = f" between {date_from or 'the start'} and {date_to or 'today'}"
        raise ConfigError(f"no sessions{span} in {store.path}; 'posture sessions' lists them")
    return chosen


def load_session_data(store: SessionStore, sessions: list[SessionInfo]) -> list[SessionData]:
    """Per-second summaries and alerts of sessions, ready for :func:`~.metrics.compute`."""
    out = []
    for info in sessions:
        alerts = [
            AlertMark(e.t_s, str(e.data.get("kind", "alert")))
            for e in store.events(info.id, kind="alert")
        ]
        out.append(SessionData(info.id, info.started_at, store.summaries(info.id), alerts))
    return out
