"""`posture record` / `posture monitor` end to end: never connecting, bad input, SIGTERM."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from host.cli import main
from host.recording.recorder import CLOSE_RETRY_S
from host.recording.store import SessionStore


@pytest.mark.parametrize("command", ["record", "monitor"])
def test_never_connecting_exits_1_says_why_and_records_nothing(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    port = tmp_path / "no-such-port"
    extra = ["--record"] if command == "monitor" else []
    code = main(
        [command, "--device", f"serial:{port}", "--duration", "1", "--no-calibrate",
         "--db", str(db), *extra]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "never connected" in err
    assert str(port) in err.splitlines()[-1]  # the last error says what failed
    with SessionStore.open(db) as store:
        assert store.sessions() == []


def test_bad_replay_file_exits_2_and_leaves_no_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ax\n0,1\n")
    db = tmp_path / "s.sqlite3"
    code = main(["record", "--device", f"replay:{bad}", "--no-calibrate", "--db", str(db)])
    assert code == 2
    assert "bad.csv" in capsys.readouterr().err
    with SessionStore.open(db) as store:
        assert store.sessions() == []


# the child gets Ctrl-C as KeyboardInterrupt even if this test runs with SIGINT ignored
_CLI = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from host.cli import main; sys.exit(main())"
)


@pytest.mark.parametrize(
    ("command", "signum", "said"),
    [
        ("record", signal.SIGTERM, "terminated (SIGTERM)"),
        ("monitor", signal.SIGTERM, "terminated (SIGTERM)"),
        ("record", signal.SIGINT, "interrupted"),  # Ctrl-C: the same clean stop
    ],
)
def test_sigterm_stops_cleanly_and_finishes_the_session(
    command: str, signum: int, said: str, tmp_path: Path
) -> None:
    db = tmp_path / "s.sqlite3"
    extra = ["--record"] if command == "monitor" else []
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLI, command, "--device", "sim:desk_day?speed=5",
         "--no-calibrate", "--no-haptics", "--db", str(db), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # wait until samples are committed (the session appears with the first sample)
        deadline = time.monotonic() + 30.0
        stored = 0
        while time.monotonic() < deadline and proc.poll() is None and stored == 0:
            time.sleep(0.2)
            if db.exists():
                with SessionStore.open(db) as store:
                    stored = sum(s.n_samples for s in store.sessions())
        assert stored > 0, "nothing was recorded before the signal"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 128 + signum, err
    assert said in err
    assert "recorded" in out + err  # the summary was printed
    with SessionStore.open(db) as store:
        [session] = store.sessions()
        assert session.ended_at is not None, "the session was finished"
        assert session.n_samples >= stored
        assert len(store.samples(session.id)) == session.n_samples
        assert len(store.summaries(session.id)) > 0


def test_record_exits_1_when_recorded_data_was_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another program holds the database's write lock from the first commit to past the end."""
    db = tmp_path / "s.sqlite3"
    locked = threading.Event()

    def hold_the_lock() -> None:
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline:
            time.sleep(0.02)
            if db.exists():
                with SessionStore.open(db) as store:
                    if store.sessions():
                        break
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(2.0 + CLOSE_RETRY_S + 2.0)  # the run, the recorder's retries at close, margin
        con.execute("ROLLBACK")
        con.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        code = main(
            ["record", "--device", "sim:desk_day?speed=20", "--duration", "2",
             "--no-calibrate", "--no-haptics", "--db", str(db)]
        )  # fmt: skip
    finally:
        holder.join()
    err = capsys.readouterr().err
    assert locked.is_set()
    assert code == 1, err
    assert "cannot write the recording" in err  # said while it happened
    assert "data lost" in err.splitlines()[-1]
