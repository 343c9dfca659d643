"""CLI contract of issue 8: posture exercise, posture rom, posture program (exit codes, store)."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host.cli import main
from host.recording.store import SessionStore

PROGRAM = """\
[program]
title = "Back"
days_per_week = 5

[alerts]
tolerance_deg = 18.0
delay_s = 90.0

[[exercise]]
name = "cat_camel"
sets = 2
reps = 9
"""


@pytest.fixture(autouse=True)
def _private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_PROGRAM", str(tmp_path / "cfg" / "program.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("POSTURE_DEVICE", raising=False)


def test_exercise_run_on_the_simulator_counts_and_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    (tmp_path / "p.toml").write_text(PROGRAM)
    assert main(["program", "import", str(tmp_path / "p.toml")]) == 0
    code = main(
        ["exercise", "run", "cat_camel", "--device", "sim:ex_cat_camel?speed=0&seed=1",
         "--db", str(db)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "rep 9/9" in out  # the program's prescription (9 reps) was used
    assert "done: well done!" in out
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        assert session.source == "exercise:cat_camel"
        sets = store.events(session.id, "exercise_set")
        reps = store.events(session.id, "rep")
    assert [e.data["reps"] for e in sets] == [9, 9]
    assert all(e.data["complete"] for e in sets)
    assert sum(1 for e in reps if e.data["partial"]) == 2
    assert main(["program", "adherence", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "cat_camel 2/2" in out
    assert "nothing due today" in out


def test_rom_all_on_the_simulator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.sqlite3"
    code = main(["rom", "--device", "sim:rom_all?speed=0&seed=3", "--age", "60", "--db", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    assert "5x sit-to-stand:" in out
    assert "population reference" in out
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        tests = [e.data["test"] for e in store.events(session.id, "rom")]
    assert tests == [
        "flexion", "extension", "lateral_right", "lateral_left", "sts", "balance",
    ]  # fmt: skip


def test_program_import_validates_and_stores_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(PROGRAM.replace("reps = 9", "reps = -1"))
    assert main(["program", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 12: [[exercise]] #1 reps" in err
    good = tmp_path / "good.toml"
    good.write_text(PROGRAM)
    assert main(["program", "import", str(good)]) == 0
    stored = tmp_path / "cfg" / "program.toml"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert (
        "tolerance_deg = 18.0"
        in (tmp_path / "xdg" / "posture-companion" / "settings.toml").read_text()
    )
    assert main(["program", "show"]) == 0
    assert "cat_camel" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["program", "adherence", "--db", str(tmp_path / "s.sqlite3")]) == 2
    assert "no program imported" in capsys.readouterr().err
    assert main(["exercise", "run", "plank", "--device", "sim:ex_cat_camel"]) == 2
    assert main(["program", "import", str(tmp_path / "missing.toml")]) == 2
    assert main(["exercise", "list"]) == 0
    assert "single_leg_stance" in capsys.readouterr().out


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["exercise", "--help"], ["rom", "--help"], ["program", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out


def test_report_gains_the_exercise_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    assert main(["exercise", "run", "bridge", "--device", "sim:ex_bridge?speed=0&seed=2",
                 "--db", str(db)]) == 0  # fmt: skip
    assert main(["rom", "--device", "sim:rom_flexion?speed=0", "--test", "flexion",
                 "--age", "40", "--db", str(db)]) == 0  # fmt: skip
    capsys.readouterr()
    out = tmp_path / "r.pdf"
    assert main(["report", "--db", str(db), "-o", str(out), "--html"]) == 0
    page = out.with_suffix(".html").read_text(encoding="utf-8")
    assert "Home exercise" in page
    assert "<td>Bridge</td>" in page
    assert "Range of motion and tests" in page
    assert out.stat().st_size > 0


def test_exercise_run_with_an_unusable_calibration_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = tmp_path / "cal.json"
    cal.write_text('{"schema_version": 99}')
    code = main(
        ["exercise", "run", "cat_camel", "--device", "sim:ex_cat_camel?speed=0&seed=1",
         "--db", str(tmp_path / "s.sqlite3"), "--calibration", str(cal)]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "cal.json" in err
    assert "schema_version 99" in err


@pytest.mark.parametrize(
    "argv",
    [["exercise", "run", "cat_camel"], ["rom", "--test", "flexion"]],
)
def test_a_link_that_fails_before_calibration_gives_its_error_not_a_cancellation(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the engine ends at once; the calibration capture it cancels must not hide why
    missing = tmp_path / "missing.csv"
    code = main([*argv, "--device", f"replay:{missing}", "--no-record"])
    assert code == 2
    assert "missing.csv: cannot read" in capsys.readouterr().err


def test_program_import_of_a_binary_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "p.toml"
    bad.write_bytes(b"\xff\xfe not text")
    assert main(["program", "import", str(bad)]) == 2
    assert "p.toml: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--pain-before", "11"], "--pain-before 11"),
        (["--pain-after", "-1"], "--pain-after -1"),
    ],
)
def test_pain_out_of_range_is_a_usage_error_naming_the_flag(
    flags: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    code = main(["exercise", "run", "bridge", "--device", "sim:ex_bridge?speed=0", "--db",
                 str(db), *flags])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert named in err
    assert "0 (none) to 10" in err
    assert not db.exists()  # refused before anything ran or was stored


def test_pain_before_and_after_are_stored_listed_reported_and_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    # not a terminal (pytest's stdin): never prompts, so the run cannot block
    assert main(["exercise", "run", "pelvic_tilt", "--device",
                 "sim:ex_pelvic_tilt?speed=0&seed=1", "--db", str(db),
                 "--pain-before", "5", "--pain-after", "3"]) == 0  # fmt: skip
    assert main(["exercise", "run", "pelvic_tilt", "--device",
                 "sim:ex_pelvic_tilt?speed=0&seed=2", "--db", str(db)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Pain now" not in out
    with SessionStore.open(db) as store:
        first, second = store.sessions()
        pain = store.events(first.id, "pain")
        assert store.events(second.id, "pain") == []
    assert [(e.data["when"], e.data["nrs"]) for e in pain] == [("before", 5), ("after", 3)]
    assert main(["sessions", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "exercise:pelvic_tilt, pain 5→3" in out
    assert main(["sessions", "--db", str(db), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (rows[0]["pain_before"], rows[0]["pain_after"]) == (5, 3)
    assert "pain_before" not in rows[1]
    assert main(["export", str(first.id), "--format", "jsonl", "--db", str(db)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["data"]["nrs"] for e in events if e.get("kind") == "pain"] == [5, 3]
    report = tmp_path / "r.pdf"
    assert main(["report", "--db", str(db), "-o", str(report), "--html"]) == 0
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    assert "Pain before and after exercise" in page
    assert "<td>Pelvic tilt</td><td>5</td><td>3</td><td>-2</td>" in page
    assert "mean change after exercise -2.0" in page


def test_sessions_shows_the_real_duration_of_exercise_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "s.sqlite3"
    assert main(["exercise", "run", "cat_camel", "--device", "sim:ex_cat_camel?speed=0&seed=1",
                 "--db", str(db)]) == 0  # fmt: skip
    capsys.readouterr()
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        sets = store.events(session.id, "exercise_set")
        last = max(e.t_s for e in store.events(session.id))
    first = sets[0].data["start_s"]
    assert isinstance(first, float)
    expected = last - first
    assert expected > 60.0  # two sets of cat-camel with a rest: minutes, not 0:00:00
    assert main(["sessions", "--db", str(db), "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["duration_s"] == pytest.approx(expected, abs=0.01)
    assert main(["sessions", "--db", str(db)]) == 0
    s = round(expected)
    assert f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pain_is_asked_on_a_terminal_when_no_flag_is_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.sqlite3"
    answers = iter(["eleven", "6", ""])  # a bad answer is asked again; Enter skips "after"
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", answer)
    assert main(["exercise", "run", "pelvic_tilt", "--device",
                 "sim:ex_pelvic_tilt?speed=0&seed=1", "--db", str(db)]) == 0  # fmt: skip
    assert [p.split(",")[1].split(":")[0].strip() for p in asked] == ["before the exercise"] * 2 + [
        "after the exercise"
    ]
    assert "whole number from 0 to 10" in capsys.readouterr().out
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        pain = store.events(session.id, "pain")
    assert [(e.data["when"], e.data["nrs"]) for e in pain] == [("before", 6)]


# the child gets Ctrl-C as KeyboardInterrupt even if this test runs with SIGINT ignored
_CLI = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from host.cli import main; sys.exit(main())"
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stopping_the_run_half_way_keeps_the_reps_done(signum: int, tmp_path: Path) -> None:
    """Ctrl-C is a documented way to end 'exercise run': the reps done are printed and stored
    (they were lost with a traceback-free 'interrupted'), then it exits 130 / 143."""
    db = tmp_path / "s.sqlite3"
    env = {**os.environ, "POSTURE_PROGRAM": str(tmp_path / "none.toml")}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLI, "exercise", "run", "pelvic_tilt", "--device",
         "sim:ex_pelvic_tilt?speed=10&seed=1", "--db", str(db)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 40.0
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "rep 3/12" in line:
                break
        assert any("rep 3/12" in line for line in seen), "".join(seen)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        proc.wait()
    expected = 130 if signum == signal.SIGINT else 128 + signum
    assert proc.returncode == expected, err
    assert "Traceback" not in err
    out = "".join(seen) + out
    assert "set 1: " in out  # the summary
    assert "recorded session" in out
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        assert session.ended_at is not None
        (done,) = store.events(session.id, "exercise_set")
        reps = [e for e in store.events(session.id, "rep") if not e.data["partial"]]
    assert 3 <= done.data["reps"] == len(reps) < 12
    assert done.data["complete"] is False


def test_ctrl_c_at_the_pain_question_after_still_stores_the_exercise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.sqlite3"
    args = ["exercise", "run", "pelvic_tilt", "--device", "sim:ex_pelvic_tilt?speed=0&seed=1",
            "--db", str(db)]  # fmt: skip
    monkeypatch.setattr("sys.stdin", _Terminal())

    def ctrl_c(prompt: str) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", ctrl_c)
    assert main(args) == 130  # at the question before: nothing was done, nothing stored
    assert not db.exists()
    answers = iter(["5"])

    def answer(prompt: str) -> str:
        if "after" in prompt:
            raise KeyboardInterrupt
        return next(answers)

    monkeypatch.setattr("builtins.input", answer)
    assert main(args) == 0  # after: the question is skipped, the exercise is kept
    assert "recorded session" in capsys.readouterr().out
    with SessionStore.open(db) as store:
        (session,) = store.sessions()
        pain = store.events(session.id, "pain")
        assert len(store.events(session.id, "exercise_set")) == 2
    assert [(e.data["when"], e.data["nrs"]) for e in pain] == [("before", 5)]
