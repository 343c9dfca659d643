"""Selecting sessions and pseudonymising what leaves the machine."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from host.errors import ConfigError
from host.recording.store import SessionStore, UnknownSessionError
from host.reports.load import (
    load_session_data,
    parse_date,
    public_device_info,
    redact_device,
    select_sessions,
)

TZ = timezone(timedelta(hours=-5))


def test_redaction() -> None:
    assert redact_device("ble:AA:bb:CC:dd:EE:ff") == "ble:<address removed>"
    assert redact_device("ble:name=PostureSim-1A2B") == "ble:name=PostureSim-1A2B"
    assert redact_device("serial:/dev/ttyACM0") == "serial:/dev/ttyACM0"
    info = {
        "name": "PostureSim",
        "address": "AA:BB:CC:DD:EE:FF",
        "serial_number": "S1",
        "rssi_dbm": -50,
        "firmware": "1.2",
    }
    assert public_device_info(info) == {"name": "PostureSim", "firmware": "1.2"}


def test_select_by_session_and_dates(tmp_path: Path) -> None:
    with SessionStore.open(tmp_path / "s.db") as store:
        ids = [
            store.create_session(
                device="sim:x", source="t", started_at=datetime(2026, 11, d, 23, 30, tzinfo=TZ)
            )
            for d in (1, 2, 5)
        ]
        store.add_event(ids[1], 3.0, "alert", {"kind": "stillness"})
        assert [s.id for s in select_sessions(store)] == ids
        assert [s.id for s in select_sessions(store, ids[1])] == [ids[1]]
        # dates are the wearer's local dates (23:30 at UTC-5 is already the next day in UTC)
        got = select_sessions(store, None, date(2026, 11, 2), date(2026, 11, 5))
        assert [s.id for s in got] == ids[1:]
        with pytest.raises(ConfigError, match="no sessions"):
            select_sessions(store, None, date(2026, 12, 1), None)
        with pytest.raises(ConfigError, match="not both"):
            select_sessions(store, ids[0], date(2026, 11, 1), None)
        with pytest.raises(ConfigError, match="before"):
            select_sessions(store, None, date(2026, 11, 5), date(2026, 11, 1))
        with pytest.raises(UnknownSessionError):
            select_sessions(store, 99)
        (data,) = load_session_data(store, [store.session(ids[1])])
        assert [(a.t_s, a.kind) for a in data.alerts] == [(3.0, "stillness")]
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        parse_date("30/11/2026")
