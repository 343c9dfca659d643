"""The live engine end to end on the simulated sensor: sim → link → fusion → posture → alerts."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from host.alerts import Alert, AlertConfig
from host.engine import Engine, EngineConfig, EngineListener, EngineThread, LiveUpdate
from host.posture import Zone
from host.transports.base import LinkEvent, LinkState


class Collector(EngineListener):
    def __init__(self) -> None:
        self.updates: list[LiveUpdate] = []
        self.alerts: list[Alert] = []
        self.links: list[LinkEvent] = []
        self.lock = threading.Lock()

    def on_update(self, update: LiveUpdate) -> None:
        with self.lock:
            self.updates.append(update)

    def on_alert(self, alert: Alert) -> None:
        self.alerts.append(alert)

    def on_link(self, event: LinkEvent) -> None:
        self.links.append(event)

    def flexion(self) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            t = np.concatenate([u.posture.t_s for u in self.updates])
            f = np.concatenate([u.posture.flexion_deg for u in self.updates])
        return t, f


async def _calibrate_then_run(engine: Engine, seconds: float) -> None:
    from calibration.procedures import fit_mounting

    runner = asyncio.create_task(engine.run(seconds))
    neutral = await engine.capture(5.0)
    await engine.set_calibration(fit_mounting(neutral, None))
    await runner


def test_engine_streams_calibrates_and_alerts_on_prolonged_slouch() -> None:
    """The 'slouching' scenario at high speed: calibrated flexion and a slouch alert."""
    collector = Collector()
    config = EngineConfig(
        device="sim:slouching?seed=3&speed=40",
        alerts=AlertConfig.simple(20.0, 30.0),
        haptics=True,
    )
    engine = Engine(config, [collector])
    asyncio.run(_calibrate_then_run(engine, 12.0))

    states = [e.state for e in collector.links]
    assert LinkState.CONNECTED in states
    assert states[-1] is LinkState.CLOSED
    t, flexion = collector.flexion()
    assert t.size > 100 * 60, "at 40x for 12 s we expect minutes of data"
    assert np.all(np.diff(t) > 0), "samples reach listeners in order"
    after = t > 6.0
    assert np.isfinite(flexion[after]).all(), "calibrated from the first 5 s"
    assert np.nanmax(flexion[after]) > 20.0, "the scenario slouches beyond 20°"
    zones = np.concatenate([u.posture.zone for u in collector.updates])
    assert (zones == Zone.SLOUCHED).any()
    assert collector.alerts, "a prolonged slouch must raise an alert"
    assert all(a.kind == "slouch" for a in collector.alerts)
    vibrations = engine.link.channel.device.vibrations  # type: ignore[attr-defined]
    assert vibrations, "haptic feedback reached the simulated device"


def test_engine_thread_runs_and_stops_without_blocking() -> None:
    collector = Collector()
    thread = EngineThread(EngineConfig(device="sim:upright_sitting?speed=10"), collector)
    thread.start()
    try:
        future = thread.submit(thread.engine.capture, 1.0)
        block = future.result(timeout=20)
        assert len(block) >= 100
    finally:
        thread.stop()
    assert not thread.running
    assert collector.links
    assert collector.links[-1].state is LinkState.CLOSED


def test_monitor_cli_plain_output_without_terminal(tmp_path: Path) -> None:
    """`posture monitor` works with no display and no terminal: plain status lines, at most
    one per second of wall time even at 20x (not one per second of sensor time)."""
    db = tmp_path / "log.sqlite3"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "host.cli",
            "monitor",
            "--device",
            "sim:upright_sitting?speed=20",
            "--duration",
            "4",
            "--record",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("t=")]
    # 4 s of wall time: about 4 lines (startup and the last second's timing allow a little
    # slack); one per sensor second would be 80
    assert 2 <= len(lines) <= 6, proc.stdout
    assert "Calibrated" in proc.stdout
    assert "zone=upright" in lines[-1]
    assert "recorded session" in proc.stdout
    assert db.exists()


@pytest.mark.parametrize("device", ["bogus:thing", "sim:no_such_scenario"])
def test_monitor_cli_bad_device_exits_2(device: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "host.cli", "monitor", "--device", device, "--duration", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "posture:" in proc.stderr


def test_haptics_switched_off_alerts_still_fire_but_the_sensor_stays_quiet() -> None:
    collector = Collector()
    engine = Engine(
        EngineConfig(device="sim:slouching?seed=3&speed=0", alerts=AlertConfig.simple(20.0, 30.0)),
        [collector],
    )
    prompts: list[str] = []

    async def main() -> None:
        await engine.set_haptics(False)
        await engine.run_calibrated(4.0, calibrate_s=5.0, prompt=prompts.append)

    asyncio.run(main())
    assert any("Calibrated" in p for p in prompts), prompts
    assert collector.alerts, "slouch alerts still fire"
    assert engine.link.channel.device.vibrations == []  # type: ignore[attr-defined]
