"""Session store benchmarks: recording cost, storage per day, statistics + report over 30 days.

``python -m bench store [--quick]`` or standalone ``python -m bench.bench_store [--quick]``.

* recording cost: CPU time (process_time) of feeding a simulated 100 Hz day through
  :class:`~host.recording.recorder.Recorder` in 5-sample blocks (a BLE notification's worth),
  committing every 50 samples as the live 0.5 s cadence would, divided by the recorded
  duration: percent of one core. Posture input is precomputed (it is the tracker's cost).
* storage: size of the database file (after a WAL checkpoint) holding that 8-hour day,
  raw samples included; the int16 floor is 2.88 M samples × 12 bytes = 34.6 MB.
* 30 days: a database with 30 eight-hour sessions (per-second summaries of varied synthetic
  days, alerts, and in full mode the raw chunks of the simulated day copied into each session so
  the file has its real size); timed: select + load + statistics + figures + PDF, in process,
  and the ``posture report --from --to`` command as a subprocess (including Python start-up).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from host.posture import PostureBlock, PostureConfig, zone_of
from host.recording.recorder import Recorder
from host.recording.store import SessionStore
from host.recording.summary import summarize_seconds
from host.recording.synthetic import desk_day, slice_posture, synthesize
from host.samples import SampleBlock

RATE_HZ = 100
BLOCK = 5
FLUSH_EVERY = 50  # samples per commit at 100 Hz with the Recorder's 0.5 s cadence
TZ = timezone(timedelta(hours=1))


def _simulated_day(minutes: float) -> tuple[SampleBlock, PostureBlock, str]:
    try:
        from device_sim.generate import generate
    except ImportError:
        samples, posture = synthesize(desk_day(hours=minutes / 60.0, seed=1), rate_hz=RATE_HZ)
        return samples, posture, "synthetic day (device_sim not importable)"
    g = generate("desk_day", seed=1, rate_hz=RATE_HZ, minutes=minutes)
    truth = g.truth
    n = len(g.samples)
    posture = PostureBlock(
        truth.t_s,
        truth.flexion_deg,
        truth.lateral_deg,
        zone_of(truth.flexion_deg, PostureConfig()),
        truth.activity.astype(np.int8),
        np.zeros(n),
        np.ones(n),
    )
    return g.samples, posture, "device_sim desk_day seed 1"


def _record(store: SessionStore, samples: SampleBlock, posture: PostureBlock) -> float:
    """Feed a recording through a Recorder as the live engine would; returns CPU seconds."""
    sid = store.create_session(device="sim:desk_day", source="bench")
    recorder = Recorder(store, sid)
    n = len(samples)
    cpu0 = time.process_time()
    for i in range(0, n, BLOCK):
        recorder.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
        if (i + BLOCK) % FLUSH_EVERY == 0:
            recorder.flush()
    recorder.close()
    store.end_session(sid)
    return time.process_time() - cpu0


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def _thirty_days(db: Path, raw_from: Path | None, days: int) -> None:
    store = SessionStore.open(db)
    for d in range(days):
        _, posture = synthesize(desk_day(hours=8.0, seed=100 + d), rate_hz=1.0, seed=d)
        start = datetime(2026, 10, 1, 8, 30, tzinfo=TZ) + timedelta(days=d)
        sid = store.create_session(device="sim:desk_day", source="bench", started_at=start)
        with store.transaction():
            store.append_summaries(sid, summarize_seconds(posture))
            for t in np.arange(1800.0, 8 * 3600.0, 2400.0):
                store.add_event(sid, float(t), "alert", {"kind": "slouch", "peak_deg": 30.0})
        store.end_session(sid)
        if raw_from is not None:
            with store.transaction():
                store._db.execute("ATTACH DATABASE ? AS src", (str(raw_from),))
                store._db.execute(
                    "INSERT INTO sample_chunks(session_id, t0_s, period_s, n, accel_scale,"
                    " gyro_scale, seq0, payload) SELECT ?, t0_s, period_s, n, accel_scale,"
                    " gyro_scale, seq0, payload FROM src.sample_chunks",
                    (sid,),
                )
            store._db.execute("DETACH DATABASE src")
    store.checkpoint()
    store.close()


def _report_in_process(db: Path, out: Path) -> tuple[float, float, int]:
    from host.reports.load import load_session_data, select_sessions
    from host.reports.metrics import compute
    from host.reports.pdf import ReportInput, render_figures, write_pdf
    from host.reports.plots import ensure_app

    ensure_app()  # Qt start-up is not part of the statistics
    t0 = time.perf_counter()
    with SessionStore.open(db) as store:
        sessions = select_sessions(store)
        data = load_session_data(store, sessions)
        study = store.study_id
    stats = compute(data)
    t_stats = time.perf_counter() - t0
    report = ReportInput(study, sessions, data, stats, datetime(2026, 11, 1, tzinfo=TZ))
    pages = write_pdf(report, render_figures(report), out)
    return t_stats, time.perf_counter() - t0, pages


def _child_cpu_s(before: resource.struct_rusage) -> float:
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run(quick: bool) -> list[dict[str, object]]:
    """Benchmark rows (see the module docstring)."""
    rows: list[dict[str, object]] = []
    minutes = 60.0 if quick else 480.0
    samples, posture, source = _simulated_day(minutes)
    with tempfile.TemporaryDirectory() as tmp:
        day_db = Path(tmp) / "day.sqlite3"
        store = SessionStore.open(day_db)
        cpu_s = _record(store, samples, posture)
        store.checkpoint()
        store.close()
        duration_s = len(samples) / RATE_HZ
        rows.append(
            {
                "benchmark": "store: recording cost at 100 Hz",
                "ours": 100.0 * cpu_s / duration_s,
                "peer": 1.0,
                "unit": "% of one core",
                "note": f"{duration_s / 3600:g} h of {source} via Recorder, "
                f"{BLOCK}-sample blocks, commit every 0.5 s; target ≤ 1 %",
            }
        )
        size = _db_bytes(day_db) * (480.0 / minutes)
        rows.append(
            {
                "benchmark": "store: 8-h 100 Hz day incl. raw",
                "ours": size / 1e6,
                "peer": 34.56,
                "unit": "MB",
                "note": "database file after checkpoint; peer = raw int16 floor; target ≤ 40 MB"
                + ("" if minutes == 480 else f" (× {480 / minutes:g} from {minutes:g} min)"),
            }
        )
        days = 30
        month_db = Path(tmp) / "month.sqlite3"
        t0 = time.perf_counter()
        _thirty_days(month_db, None if quick else day_db, days)
        build_s = time.perf_counter() - t0
        t_stats, t_total, pages = _report_in_process(month_db, Path(tmp) / "month.pdf")
        rows.append(
            {
                "benchmark": "store: statistics, 30 × 8-h days",
                "ours": t_stats,
                "peer": None,
                "unit": "s",
                "note": "select + load per-second summaries + all metrics (in process)",
            }
        )
        rows.append(
            {
                "benchmark": "store: statistics + PDF report, 30 days",
                "ours": t_total,
                "peer": 5.0,
                "unit": "s",
                "note": f"in process, {pages} pages; database {_db_bytes(month_db) / 1e6:.0f} MB "
                f"({'summaries only' if quick else 'with raw'}), built in {build_s:.0f} s; "
                "target ≤ 5 s",
            }
        )
        exe = Path(sys.executable).parent / "posture"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(exe),
                "report",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-30",
                "-o",
                str(Path(tmp) / "cli.pdf"),
                "--db",
                str(month_db),
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
        rows.append(
            {
                "benchmark": "store: 'posture report' CLI, 30 days",
                "ours": time.perf_counter() - t0,
                "peer": 5.0,
                "unit": "s",
                "note": "subprocess wall time including Python and Qt start-up; CPU "
                f"{_child_cpu_s(before):.2f} s (wall exceeds CPU on a busy machine)",
            }
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import render_table

    print(render_table(run("--quick" in sys.argv)))
