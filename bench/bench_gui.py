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


def bench_plot(seconds: float, block: int) -> list[dict[str, object]]:
    """Paint rate, CPU and latency of the live plot fed at 100 Hz in ``block``-sample blocks."""
    from PyQt6.QtWidgets import QApplication

    from host.gui.bridge import EngineBridge
    from host.gui.plots import FlexionPlot

    app = QApplication.instance() or QApplication([])
    bridge = EngineBridge(WINDOW_S, RATE_HZ)
    plot = FlexionPlot(WINDOW_S)
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
    label = f"{round(RATE_HZ / block)} blocks/s"

    points = plot.points_plotted
    return [
        {
            "benchmark": f"gui: live plot paints/s (10 min @ 100 Hz, {label})",
            "ours": paints / wall,
            "peer": 30.0,
            "unit": "paints/s",
            "note": f"target ≥ 30; {points} points per curve; {seconds:.0f} s offscreen",
        },
        {
            "benchmark": f"gui: live plot CPU, process incl. producer ({label})",
            "ours": 100.0 * cpu / wall,
            "peer": 30.0,
            "unit": "% of 1 core",
            "note": "target ≤ 30",
        },
        {
            "benchmark": f"gui: sample-to-screen latency p99 ({label})",
            "ours": float(np.percentile(latencies_ms, 99)) if latencies_ms.size else None,
            "peer": 50.0,
            "unit": "ms",
            "note": f"median {np.median(latencies_ms):.1f} ms over {latencies_ms.size} blocks;"
            " target ≤ 50",
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
            "peer": 3.0,
            "unit": "s",
            "note": "fresh process via 'posture dashboard'; target ≤ 3",
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
