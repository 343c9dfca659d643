"""Dashboard speed (issue 7 targets), measured offscreen the way notes/qt.md §3 recommends.

1. **Live plot**: the real :class:`host.gui.plots.FlexionPlot` (1000×400) fed through the real
   :class:`host.gui.bridge.EngineBridge` by a producer *thread* (as the engine would) at 100 Hz,
   with the 10-minute window prefilled (60 000 points per curve). Two cases: one sample per
   notification (100 blocks/s: the redraw cap of 30 Hz is what limits) and 5 samples per
   notification (our simulator's packing: 20 blocks/s, so 20 redraws/s show every sample). We count
   real ``paintEvent`` calls per second, process CPU time / wall time (all threads, so it
   includes the producer), and sample-to-screen latency: from the producer handing a block to
   the bridge to the end of the first paint that shows it.
2. **Whole dashboard, live**: the real window with the real engine on ``sim:desk_day`` at real
   time (speed 1): process CPU % including simulator, fusion and posture, plus the plot's paint
   rate (only when the simulator is available).
3. **Cold start**: ``posture dashboard --device sim:upright_sitting --screenshot ... --exit-after``
   in a fresh process; the child logs the wall-clock time at which the first sample reached the
   plot, and we subtract the spawn time (interpreter start, imports, QApplication, window,
   engine, link handshake, first drain: everything a user waits for).

Offscreen has no vsync or compositor, so a desktop can only be equal or slower (notes/qt.md).
Run standalone: ``python -m bench.bench_gui [--quick]``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from host.engine import LiveUpdate
from host.posture import PostureBlock

__all__ = ["run"]

RATE_HZ = 100.0
WINDOW_S = 600.0
FloatArray = npt.NDArray[np.float64]


def _signal(t_s: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Desk-like flexion: slow drifts into slouches, a few bends, sensor noise (degrees)."""
    slow = 12.0 + 10.0 * np.sin(t_s / 90.0) + 6.0 * np.sin(t_s / 13.0)
    bends = 35.0 * (np.sin(t_s / 40.0) > 0.995)
    return slow + bends + rng.normal(0.0, 0.4, t_s.size)


def _update(t0_s: float, n: int, rng: np.random.Generator) -> LiveUpdate:
    t_s = t0_s + np.arange(n) / RATE_HZ
    flexion = _signal(t_s, rng)
    return LiveUpdate(
        PostureBlock(
            t_s,
            flexion,
            rng.normal(0.0, 2.0, n),
            np.searchsorted([-10.0, 10.0, 20.0, 60.0], flexion).astype(np.int8),
            np.ones(n, dtype=np.int8),
            np.zeros(n),
            np.ones(n),
        ),
        30.0,
    )


def _pump(app: object, seconds: float) -> None:
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


@dataclass(frozen=True)
class PlotRun:
    """One live-plot measurement."""

    paints_per_s: float
    cpu_pct: float
    latency_p99_ms: float
    latency_median_ms: float
    blocks: int
    points: int


def measure_plot(seconds: float, block: int, naive: bool = False) -> PlotRun:
    """Paint rate, CPU and latency of the live plot fed at 100 Hz in ``block``-sample blocks.

    ``naive`` is the peer: the same widget and bridge with pyqtgraph's defaults (no
    downsampling, no clipping, finite check on) and a grid, i.e. without the recipe.
    """
    from PyQt6.QtWidgets import QApplication

    from host.gui.bridge import EngineBridge
    from host.gui.plots import FlexionPlot

    app = QApplication.instance() or QApplication([])
    bridge = EngineBridge(WINDOW_S, RATE_HZ)
    plot = FlexionPlot(WINDOW_S)
    if naive:
        for curve in (plot.flexion_curve, plot.lateral_curve):
            curve.setDownsampling(auto=False)
            curve.setClipToView(False)
            curve.setSkipFiniteCheck(False)
        plot.getPlotItem().showGrid(x=True, y=True, alpha=0.15)
    plot.resize(1000, 400)
    plot.show()
    bridge.frame_drained.connect(plot.show_frame)
    rng = np.random.default_rng(7)
    n_window = round(WINDOW_S * RATE_HZ)
    bridge.push_update(_update(0.0, n_window, rng))  # a full 10-minute window
    bridge.start()
    stop = threading.Event()
    t0_s = n_window / RATE_HZ

    def producer() -> None:
        # Paced by the monotonic clock like a sensor: no drift.
        k = 0
        start = time.monotonic()
        while not stop.is_set():
            bridge.push_update(_update(t0_s + k * block / RATE_HZ, block, rng))
            k += 1
            delay = start + k * block / RATE_HZ - time.monotonic()
            if delay > 0:
                stop.wait(delay)

    worker = threading.Thread(target=producer, name="bench-producer")
    worker.start()
    _pump(app, 1.0)  # warm-up
    paints0, cpu0, wall0 = plot.paint_count, time.process_time(), time.perf_counter()
    plot.latencies_s.clear()
    _pump(app, seconds)
    paints = plot.paint_count - paints0
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    stop.set()
    worker.join()
    bridge.stop()
    latencies_ms = np.array(plot.latencies_s) * 1000.0
    plot.close()
    return PlotRun(
        paints_per_s=paints / wall,
        cpu_pct=100.0 * cpu / wall,
        latency_p99_ms=float(np.percentile(latencies_ms, 99)),
        latency_median_ms=float(np.median(latencies_ms)),
        blocks=int(latencies_ms.size),
        points=plot.points_plotted,
    )


def bench_plot(seconds: float, block: int) -> list[dict[str, object]]:
    """Rows for ``block``-sample notifications: ours vs the naive plot (peer)."""
    ours = measure_plot(seconds, block)
    peer = measure_plot(seconds, block, naive=True)
    label = f"{round(RATE_HZ / block)} blocks/s"
    where = f"{ours.points} points per curve, {seconds:.0f} s offscreen"
    return [
        {
            "benchmark": f"gui: live plot paints/s (10 min @ 100 Hz, {label})",
            "ours": ours.paints_per_s,
            "peer": peer.paints_per_s,
            "unit": "paints/s",
            "note": (
                "target ≥ 30, capped at 30"
                if RATE_HZ / block > 30
                else "one redraw per notification: nothing new to draw in between"
            )
            + f"; peer = pyqtgraph defaults + grid; {where}",
        },
        {
            "benchmark": f"gui: live plot CPU, process incl. producer ({label})",
            "ours": ours.cpu_pct,
            "peer": peer.cpu_pct,
            "unit": "% of 1 core",
            "note": "target ≤ 30",
        },
        {
            "benchmark": f"gui: sample-to-screen latency p99 ({label})",
            "ours": ours.latency_p99_ms,
            "peer": peer.latency_p99_ms,
            "unit": "ms",
            "note": f"median {ours.latency_median_ms:.1f} ms (peer {peer.latency_median_ms:.1f})"
            f" over {ours.blocks} blocks; target ≤ 50",
        },
    ]


def bench_live_window(seconds: float) -> list[dict[str, object]]:
    """The real window on the real engine and simulator at real time."""
    from PyQt6.QtWidgets import QApplication

    from host.gui.main_window import MainWindow
    from host.settings import Settings

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(
            Settings(device="sim:desk_day", db_path=str(Path(tmp) / "db.sqlite3")),
            settings_path=Path(tmp) / "settings.toml",
            persist=False,
        )
        window.resize(1200, 720)
        window.show()
        window.connect_device("sim:desk_day?speed=1")
        _pump(app, 5.0)  # connect, calibrate (3 s of sensor time), warm up
        paints0, cpu0, wall0 = window.plot.paint_count, time.process_time(), time.perf_counter()
        window.plot.latencies_s.clear()
        _pump(app, seconds)
        paints = window.plot.paint_count - paints0
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        latencies_ms = np.array(window.plot.latencies_s) * 1000.0
        window.close()
    p99 = float(np.percentile(latencies_ms, 99)) if latencies_ms.size else None
    return [
        {
            "benchmark": "gui: whole dashboard + engine + sim, CPU",
            "ours": 100.0 * cpu / wall,
            "peer": None,
            "unit": "% of 1 core",
            "note": f"{paints / wall:.1f} paints/s, latency p99 {p99 or float('nan'):.1f} ms; "
            "includes the simulated sensor, fusion and posture",
        }
    ]


def bench_cold_start(exit_after_s: float) -> list[dict[str, object]]:
    """Fresh process to the first plotted sample, via the real ``posture`` entry point."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=tmp, XDG_DATA_HOME=tmp)
        command = [
            sys.executable,
            "-m",
            "host.cli",
            "-v",
            "dashboard",
            "--device",
            "sim:upright_sitting",
            "--screenshot",
            str(Path(tmp) / "shot.png"),
            "--exit-after",
            str(exit_after_s),
        ]
        spawned = time.time()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    match = re.search(r"first sample plotted at epoch ([0-9.]+)", done.stderr)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"dashboard failed ({done.returncode}): {done.stderr[-2000:]}")
    return [
        {
            "benchmark": "gui: cold start to first plotted sample",
            "ours": float(match.group(1)) - spawned,
            "peer": None,
            "unit": "s",
            "note": "fresh process via 'posture dashboard' to the first drawn sample; target ≤ 3",
        }
    ]


def run(quick: bool) -> list[dict[str, object]]:
    """All dashboard benchmarks; ``quick`` shortens the measurement windows."""
    rows = bench_plot(4.0 if quick else 15.0, block=1)
    rows += bench_plot(4.0 if quick else 15.0, block=5)
    rows += bench_cold_start(4.0)
    rows += bench_live_window(4.0 if quick else 15.0)
    return rows


if __name__ == "__main__":
    from bench.__main__ import render_table

    print(render_table(run("--quick" in sys.argv)))
