"""Disconnecting never blocks the GUI thread, however slowly the engine winds down."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from host.engine import EngineConfig, EngineListener, EngineThread
from host.gui.main_window import MainWindow
from host.settings import Settings
from host.transports.base import LinkEvent, LinkState

SLOW_S = 1.0


class _SlowClose(EngineListener):
    """Holds the engine thread at the end of its run, as a slow Bluetooth disconnect does."""

    def on_link(self, event: LinkEvent) -> None:
        if event.state is LinkState.CLOSED:
            time.sleep(SLOW_S)


def _slow_engine(config: EngineConfig, listener: EngineListener) -> EngineThread:
    thread = EngineThread(config, listener)  # the real engine, one more (slow) listener
    thread.engine.listeners.append(_SlowClose())
    return thread


class _Quiet:
    def notify(self, title: str, message: str, *, sound: bool, tray: bool) -> None:
        pass


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    settings = Settings(db_path=str(tmp_path / "db.sqlite3"))
    win = MainWindow(
        settings, tmp_path / "s.toml", engine_factory=_slow_engine, notifier=_Quiet(),
        persist=False,
    )  # fmt: skip
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.session.running
    assert not win.session.stopping  # close waited (bounded) for the engine thread


def test_disconnect_returns_at_once_and_reports_when_stopped(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.connect_device("sim:upright_sitting?speed=5")
    qtbot.waitUntil(lambda: window.link_state is LinkState.CONNECTED, timeout=5000)
    thread = window.session.engine_thread
    assert thread is not None
    t0 = time.monotonic()
    with qtbot.waitSignal(window.session.stopped, timeout=5000):
        window.disconnect_device()
        returned_s = time.monotonic() - t0
        assert not window.session.running
        assert window.session.stopping
        assert window.link_label.text() == "disconnected"
        assert window.connect_button.text() == "Connect"
    assert returned_s < 0.5 * SLOW_S, f"disconnect blocked the GUI for {returned_s:.2f} s"
    assert time.monotonic() - t0 >= SLOW_S  # the engine really took its time
    assert not thread.running
    assert not window.session.stopping


def test_reconnect_while_the_old_engine_winds_down(qtbot: QtBot, window: MainWindow) -> None:
    window.connect_device("sim:upright_sitting?speed=5")
    qtbot.waitUntil(lambda: window.link_state is LinkState.CONNECTED, timeout=5000)
    old = window.session.engine_thread
    t0 = time.monotonic()
    window.connect_device("sim:standing?speed=5")  # stops the first engine without waiting
    assert time.monotonic() - t0 < 0.5 * SLOW_S
    assert window.session.engine_thread is not old
    qtbot.waitSignal(window.session.stopped, timeout=5000).wait()
    # the old engine's late "closed" was muted: the new connection's state stands
    qtbot.waitUntil(lambda: window.link_state is LinkState.CONNECTED, timeout=5000)
    qtbot.wait(100)
    assert window.link_state is LinkState.CONNECTED
    assert window.session.running
