"""kill -9 during a recording loses at most the last second (real process, real SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from host.recording.store import SessionStore

RATE_HZ = 100
BLOCK = 5  # samples per live block (a BLE notification carries a few)

_CHILD = (
    textwrap.dedent(
        """
    import sys, time
    from pathlib import Path
    import numpy as np
    from device_sim.generate import generate
    from host.posture import PostureBlock, PostureConfig, zone_of
    from host.recording.recorder import Recorder
    from host.recording.store import SessionStore
    from host.recording.synthetic import slice_posture

    # simulated wearer; posture from its ground truth (the tracker is not under test here)
    g = generate("desk_day", seed=4, rate_hz=RATE_HZ, minutes=3)
    samples, tr = g.samples, g.truth
    n = len(samples)
    posture = PostureBlock(tr.t_s, tr.flexion_deg, tr.lateral_deg,
                           zone_of(tr.flexion_deg, PostureConfig()), tr.activity.astype(np.int8),
                           np.zeros(n), np.ones(n))
    store = SessionStore.open(Path(sys.argv[1]))
    sid = store.create_session(device="sim:desk_day", source="live")
    rec = Recorder(store, sid)
    print("session", sid, flush=True)
    start = time.monotonic()
    for i in range(0, len(samples), BLOCK):
        # pace like a live sensor: block i arrives when its last sample has been measured
        delay = start + (i + BLOCK) / RATE_HZ - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rec.on_block(samples.slice(i, i + BLOCK), slice_posture(posture, i, i + BLOCK))
        print("fed", i + BLOCK, flush=True)
    """
    )
    .replace("RATE_HZ", str(RATE_HZ))
    .replace("BLOCK", str(BLOCK))
)


@pytest.mark.parametrize("run_s", [2.3, 3.7])
def test_sigkill_loses_at_most_one_second(tmp_path: Path, run_s: float) -> None:
    db = tmp_path / "crash.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().split()
    assert first[0] == "session", first
    sid = int(first[1])
    fed = 0
    t_end = time.monotonic() + run_s
    while time.monotonic() < t_end:
        line = proc.stdout.readline()
        assert line, "recorder process ended early"
        fed = int(line.split()[1])
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    # anything the child printed after our last read was fed too: count it as fed
    fed = max([fed, *(int(x.split()[1]) for x in proc.stdout.read().splitlines())])
    proc.stdout.close()

    with SessionStore.open(db) as store:
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = len(store.samples(sid))
        info = store.session(sid)
        summaries = store.summaries(sid)
    assert info.n_samples == stored
    print(f"fed {fed} stored {stored} lost {fed - stored}")
    assert fed - RATE_HZ <= stored <= fed, (fed, stored)
    assert stored > 0
    # summaries cover the committed samples except the unfinished last second
    assert len(summaries) >= stored // RATE_HZ - 1
