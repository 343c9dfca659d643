"""Bridge: ring buffer, thread hand-over, drain into frames, zone totals; plot paints."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from host.gui.bridge import EngineBridge, LiveFrame, PlotRing
from host.gui.plots import FlexionPlot
from host.posture import Zone


def test_ring_keeps_newest_contiguous() -> None:
    ring = PlotRing(5, channels=1)
    ring.extend(np.array([[1.0, 2.0, 3.0]]))
    assert ring.view().tolist() == [[1.0, 2.0, 3.0]]
    ring.extend(np.array([[4.0, 5.0, 6.0, 7.0]]))
    assert ring.view().tolist() == [[3.0, 4.0, 5.0, 6.0, 7.0]]
    ring.extend(np.arange(10.0, 22.0)[None, :])
    assert ring.view().tolist() == [[17.0, 18.0, 19.0, 20.0, 21.0]]
    assert ring.view().flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("chunks", [[1] * 50, [7, 13, 29, 1], [200]])
def test_ring_equals_tail_of_stream(chunks: list[int]) -> None:
    ring = PlotRing(37, channels=2)
    stream = np.vstack((np.arange(300.0), -np.arange(300.0)))
    i = 0
    for size in chunks * 10:
        ring.extend(stream[:, i : i + size])
        i += size
        if i >= 300:
            break
    i = min(i, 300)
    np.testing.assert_array_equal(ring.view(), stream[:, max(0, i - 37) : i])


def test_updates_from_another_thread_reach_one_frame(
    update_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    bridge = EngineBridge(window_s=60.0)
    frames: list[LiveFrame] = []
    bridge.frame_drained.connect(frames.append)

    def engine_thread() -> None:
        for k in range(20):
            zone = Zone.UPRIGHT if k < 10 else Zone.SLOUCHED
            bridge.push_update(update_factory(k * 0.1, 10, 5.0 if k < 10 else 30.0, zone))

    worker = threading.Thread(target=engine_thread)
    worker.start()
    worker.join()
    frame = bridge.drain()
    assert frame is not None
    assert frames == [frame]
    assert frame.new_samples == 200
    assert frame.t_s.size == 200
    assert frame.zone == int(Zone.SLOUCHED)
    assert frame.flexion_deg[-1] == 30.0
    assert len(frame.arrivals) == 20
    assert frame.zone_seconds[int(Zone.UPRIGHT)] == pytest.approx(1.0, abs=0.02)
    assert frame.zone_seconds[int(Zone.SLOUCHED)] == pytest.approx(1.0, abs=0.02)
    assert bridge.drain() is None  # nothing new


def test_window_is_bounded_and_restart_clears(
    update_factory: Callable[..., Any], qtbot: QtBot
) -> None:
    bridge = EngineBridge(window_s=10.0, rate_hz=100.0)
    for k in range(30):
        bridge.push_update(update_factory(k * 1.0, 100, 1.0, Zone.UPRIGHT))
    frame = bridge.drain()
    assert frame is not None
    assert frame.t_s.size == 1000
    assert frame.t_s[0] == pytest.approx(20.0)
    bridge.push_update(update_factory(0.0, 50, 1.0, Zone.UPRIGHT))  # a new stream
    frame = bridge.drain()
    assert frame is not None
    assert frame.t_s.size == 50


def test_timer_drains_and_plot_paints(update_factory: Callable[..., Any], qtbot: QtBot) -> None:
    bridge = EngineBridge(window_s=600.0)
    plot = FlexionPlot(600.0)
    qtbot.addWidget(plot)
    plot.resize(800, 300)
    plot.show()
    qtbot.waitExposed(plot)
    bridge.frame_drained.connect(plot.show_frame)
    bridge.start()
    bridge.push_update(update_factory(0.0, 60_000, 25.0, Zone.SLOUCHED))
    qtbot.waitUntil(lambda: plot.points_plotted == 60_000, timeout=2000)
    qtbot.waitUntil(lambda: len(plot.latencies_s) == 1, timeout=2000)
    assert 0.0 < plot.latencies_s[0] < 1.0
    assert plot.paint_count >= 1

    # The curve is drawn: the grabbed image has the flexion colour across the plot (the legend's
    # sample line alone gives about a dozen). Under CPU load the first paint after the data can
    # lag the latency bookkeeping, so allow the next few frames.
    def blue_pixels() -> int:
        image = plot.grab().toImage()
        return sum(
            1
            for x in range(0, 800, 2)
            for y in range(0, 300)
            if image.pixelColor(x, y).blue() - image.pixelColor(x, y).red() > 100
        )

    qtbot.waitUntil(lambda: blue_pixels() > 100, timeout=3000)
    bridge.stop()


def test_nan_flexion_is_not_plotted(update_factory: Callable[..., Any], qtbot: QtBot) -> None:
    bridge = EngineBridge(window_s=60.0)
    plot = FlexionPlot(60.0)
    qtbot.addWidget(plot)
    bridge.push_update(update_factory(0.0, 100, float("nan"), Zone.UNKNOWN))
    bridge.push_update(update_factory(1.0, 100, 12.0, Zone.MILD))
    frame = bridge.drain()
    assert frame is not None
    plot.show_frame(frame)
    _x, y = plot.flexion_curve.getData()
    assert len(y) == 100
    assert np.isfinite(y).all()
