"""The live engine's lifecycle: stop races, failing listeners, recording on error paths."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import time
from pathlib import Path

import pytest

from host.engine import Engine, EngineConfig, EngineListener, EngineThread, LiveUpdate
from host.errors import ConnectError
from host.link import SensorLink
from host.recording.store import SessionStore
from host.transports.base import DeviceInfo, LinkEvent, LinkState, open_channel

FAST = "sim:desk_day?seed=1&speed=20"


class Counter(EngineListener):
    def __init__(self) -> None:
        self.updates = 0
        self.links: list[LinkEvent] = []
        self.errors: list[str] = []

    def on_update(self, update: LiveUpdate) -> None:
        self.updates += 1

    def on_link(self, event: LinkEvent) -> None:
        self.links.append(event)

    def on_error(self, message: str) -> None:
        self.errors.append(message)


class Exploding(EngineListener):
    def on_update(self, update: LiveUpdate) -> None:
        raise RuntimeError("listener bug")

    def on_link(self, event: LinkEvent) -> None:
        raise RuntimeError("listener bug")


async def test_stop_before_run_makes_run_return_at_once() -> None:
    """EngineThread.stop may reach the engine before run() starts: the request must stick."""
    engine = Engine(EngineConfig(device=FAST))
    engine.stop()
    await asyncio.wait_for(engine.run(), timeout=5.0)


async def test_a_failing_listener_does_not_stop_the_engine_or_the_others() -> None:
    counter = Counter()
    engine = Engine(EngineConfig(device=FAST, haptics=False), [Exploding(), counter])
    await asyncio.wait_for(engine.run(1.0), timeout=5.0)
    assert counter.updates > 5, "the good listener kept receiving after the bad one raised"
    assert counter.links[-1].state is LinkState.CLOSED


def test_engine_thread_stop_before_start_and_twice() -> None:
    thread = EngineThread(EngineConfig(device=FAST), Counter())
    thread.stop(timeout_s=1.0)  # never started: nothing to join, no error
    thread.stop(timeout_s=1.0)


def test_engine_thread_stop_while_connecting_returns_promptly() -> None:
    """A sensor that never answers: stop() during the connect/backoff loop ends the thread."""
    counter = Counter()
    # unreachable for the whole run: every connect fails and the link backs off
    thread = EngineThread(EngineConfig(device="sim:desk_day?speed=1&refuse=1"), counter)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    thread.stop(timeout_s=5.0)
    assert not thread.running
    assert time.monotonic() - started < 2.0


class _FailSecondConnect:
    """A sim channel whose first connection works, drops, and the reconnect fails for good."""

    def __init__(self, device: str) -> None:
        self._inner = open_channel(device)
        self._connects = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    @property
    def description(self) -> str:
        return self._inner.description

    async def connect(self) -> DeviceInfo:
        self._connects += 1
        if self._connects > 1:
            raise ConnectError("Bluetooth was switched off", transient=False)
        return await self._inner.connect()


async def test_recording_survives_a_permanent_link_failure(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    engine = Engine(EngineConfig(device=FAST, record=True, db_path=db, haptics=False))
    channel = _FailSecondConnect("sim:desk_day?seed=1&speed=20&link_loss_every=30&link_loss_for=5")
    engine.link = SensorLink(channel)  # type: ignore[arg-type]
    with pytest.raises(ConnectError):
        await asyncio.wait_for(engine.run(10.0), timeout=8.0)
    assert engine.session_id is not None
    with SessionStore.open(db) as store:
        info = store.session(engine.session_id)
        assert info.ended_at is not None, "the session was ended"
        assert len(store.samples(engine.session_id)) > 100, "the samples were kept"


async def test_recording_is_ended_when_closing_the_link_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.db"
    engine = Engine(EngineConfig(device=FAST, record=True, db_path=db, haptics=False))

    async def broken_close() -> None:
        raise RuntimeError("disconnect failed")

    monkeypatch.setattr(engine.link, "close", broken_close)
    with pytest.raises(RuntimeError, match="disconnect failed"):
        await asyncio.wait_for(engine.run(0.5), timeout=5.0)
    assert engine.session_id is not None
    with SessionStore.open(db) as store:
        assert store.session(engine.session_id).ended_at is not None


async def test_capture_pending_when_run_ends_is_cancelled_not_left_hanging() -> None:
    engine = Engine(EngineConfig(device=FAST, haptics=False))
    runner = asyncio.create_task(engine.run(0.3))
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(engine.capture(3600.0), timeout=5.0)
    await runner


async def test_an_unexpected_calibration_failure_is_told_not_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken_routine(*args: object, **kwargs: object) -> None:
        raise ValueError("fit blew up")

    monkeypatch.setattr("host.engine.run_routine", broken_routine)
    prompts: list[str] = []
    engine = Engine(EngineConfig(device=FAST, haptics=False))
    await asyncio.wait_for(
        engine.run_calibrated(1.0, calibrate_s=0.5, prompt=prompts.append), timeout=5.0
    )
    assert any("fit blew up" in p for p in prompts), prompts


def test_every_submitted_call_ends_even_when_the_engine_stops_under_it() -> None:
    """GUI calls racing the engine's end (scenario over) must not hang the wizard forever."""
    thread = EngineThread(
        EngineConfig(device="sim:desk_day?minutes=0.02&speed=100", haptics=False), Counter()
    )
    thread.start()
    futures = []
    deadline = time.monotonic() + 8.0
    while thread.running and time.monotonic() < deadline:
        futures.append(thread.submit(thread.engine.capture, 3600.0))
    thread.stop(timeout_s=5.0)
    futures.append(thread.submit(thread.engine.capture, 3600.0))
    concurrent.futures.wait(futures, timeout=2.0)
    pending = sum(not f.done() for f in futures)
    assert pending == 0, f"{pending} of {len(futures)} calls never ended"


async def test_listeners_hear_closed_and_captures_end_when_the_last_flush_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = Counter()
    db = tmp_path / "s.db"
    engine = Engine(EngineConfig(device=FAST, record=True, db_path=db, haptics=False), [counter])

    def broken_close() -> None:
        raise OSError("disk full")

    runner = asyncio.create_task(engine.run(0.5))
    capture = asyncio.create_task(engine.capture(3600.0))
    await asyncio.sleep(0.1)
    assert engine._recorder is not None
    monkeypatch.setattr(engine._recorder, "close", broken_close)
    with pytest.raises(OSError, match="disk full"):
        await asyncio.wait_for(runner, timeout=5.0)
    assert counter.links[-1].state is LinkState.CLOSED
    assert capture.done()
    assert capture.cancelled()
    with SessionStore.open(db) as store:
        assert store.session(engine.session_id or 0).ended_at is not None


class _WriteLock:
    """Another program holding the session database's write lock (a real SQLite lock)."""

    def __init__(self, db: Path) -> None:
        self._con = sqlite3.connect(db, isolation_level=None)

    def hold(self) -> None:
        self._con.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self._con.execute("ROLLBACK")
        self._con.close()


async def _wait_for_samples(db: Path, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if db.exists():  # noqa: ASYNC240 (a test helper polling a file)
            with SessionStore.open(db) as store:
                if any(s.n_samples for s in store.sessions()):
                    return
    raise AssertionError("nothing recorded")


@pytest.mark.parametrize(("locked_s", "gives_up"), [(0.8, False), (2.5, True)])
async def test_a_locked_database_does_not_stop_monitoring(
    tmp_path: Path, locked_s: float, gives_up: bool
) -> None:
    counter = Counter()
    db = tmp_path / "s.db"
    config = EngineConfig(device=FAST, record=True, db_path=db, haptics=False, record_give_up_s=1.0)
    engine = Engine(config, [counter])
    runner = asyncio.create_task(engine.run(locked_s + 1.5))
    await _wait_for_samples(db)
    lock = _WriteLock(db)
    lock.hold()
    updates_at_lock = counter.updates
    await asyncio.sleep(locked_s)
    updates_while_locked = counter.updates - updates_at_lock
    lock.release()
    await asyncio.wait_for(runner, timeout=10.0)  # the run ends normally, not with an error
    assert updates_while_locked > 10, "monitoring went on while the database was locked"
    assert any("cannot write" in e for e in counter.errors), counter.errors
    assert engine.session_id is not None
    with SessionStore.open(db) as store:
        info = store.session(engine.session_id)
        assert info.ended_at is not None
        assert info.n_samples == engine.samples_recorded
    if gives_up:
        assert engine.recording_problem is not None
        assert "recording stopped" in engine.recording_problem
        assert info.n_samples < engine.samples_processed
    else:
        assert engine.recording_problem is None
        assert info.n_samples == engine.samples_processed  # held, retried, nothing lost


@pytest.mark.parametrize(("give_up_s", "records"), [(10.0, True), (0.5, False)])
async def test_a_database_locked_when_recording_starts_is_retried(
    tmp_path: Path, give_up_s: float, records: bool
) -> None:
    """``posture import`` holds one write transaction for a whole file: a recording started
    meanwhile waits for it (samples buffered) instead of recording nothing."""
    counter = Counter()
    db = tmp_path / "s.db"
    SessionStore.open(db).close()
    lock = _WriteLock(db)
    lock.hold()
    config = EngineConfig(
        device="sim:upright_sitting?speed=5", record=True, db_path=db, haptics=False,
        record_give_up_s=give_up_s,
    )  # fmt: skip
    engine = Engine(config, [counter])
    runner = asyncio.create_task(engine.run(3.0))
    await asyncio.sleep(1.5)
    assert engine.samples_processed > 100, "monitoring went on while the database was locked"
    lock.release()
    await asyncio.wait_for(runner, timeout=10.0)
    assert any("cannot write" in e for e in counter.errors), counter.errors
    with SessionStore.open(db) as store:
        sessions = store.sessions()
        if records:
            assert engine.recording_problem is None, engine.recording_problem
            assert engine.session_id is not None
            assert [s.id for s in sessions] == [engine.session_id]
            assert sessions[0].ended_at is not None
            assert sessions[0].n_samples == engine.samples_processed  # buffered, nothing lost
            assert engine.samples_recorded == engine.samples_processed
        else:  # locked for longer than the give-up time: told, and no half session left
            assert engine.recording_problem is not None
            assert "recording stopped" in engine.recording_problem
            assert engine.session_id is None
            assert sessions == []


async def test_recording_is_closed_before_the_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disconnect (BLE) at dashboard quit must not cost the last flush: the session is
    complete in the store before the link starts closing."""
    db = tmp_path / "s.db"
    engine = Engine(EngineConfig(device=FAST, record=True, db_path=db, haptics=False))
    real_close = engine.link.close
    seen: list[tuple[bool, int]] = []

    async def close_link() -> None:
        sid = engine.session_id
        assert sid is not None
        with SessionStore.open(db) as store:
            info = store.session(sid)
            seen.append((info.ended_at is not None, info.n_samples))
        await real_close()

    monkeypatch.setattr(engine.link, "close", close_link)
    await asyncio.wait_for(engine.run(1.0), timeout=8.0)
    assert seen == [(True, engine.samples_processed)]
