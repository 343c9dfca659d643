"""A recorded live session's header holds the calibration and alert policy in use.

The dashboard records through the engine, so this is its path as well as `posture record`'s.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from host.alerts import AlertConfig
from host.engine import Engine, EngineConfig, policy_record
from host.recording.store import SessionStore


def test_header_follows_calibration_and_policy_changes(tmp_path: Path) -> None:
    from calibration.procedures import fit_mounting

    db = tmp_path / "s.sqlite3"
    first = dataclasses.replace(AlertConfig(), tolerance_deg=22.0)
    second = dataclasses.replace(AlertConfig(), tolerance_deg=30.0, delay_s=45.0)
    engine = Engine(
        EngineConfig(device="sim:upright_sitting?speed=20", alerts=first, record=True, db_path=db)
    )
    seen: dict[str, object] = {}

    async def scenario() -> None:
        runner = asyncio.create_task(engine.run(30.0))
        neutral = await engine.capture(2.0)  # the session exists from the first sample on
        assert engine.session_id is not None
        with SessionStore.open(db) as store:
            info = store.session(engine.session_id)
            seen["before"] = (info.calibration, info.policy)
        await engine.set_calibration(fit_mounting(neutral, None))
        await engine.set_alert_config(second)
        await engine.capture(0.5)
        engine.stop()
        await runner

    asyncio.run(scenario())
    assert seen["before"] == (None, policy_record(first))
    assert engine.session_id is not None
    with SessionStore.open(db) as store:
        info = store.session(engine.session_id)
        events = store.events(engine.session_id)
    assert info.calibration is not None
    assert "r_body_sensor" in info.calibration
    assert info.policy == policy_record(second)
    assert info.policy is not None
    policy_events = [e for e in events if e.kind == "policy"]
    assert [e.data for e in policy_events] == [policy_record(second)]
