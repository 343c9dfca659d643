"""An exercise the database refuses is kept in a private file and stored later; a run that
never connects is a failure (exit 1), not an empty success."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from host.cli import main
from host.recording.store import SessionStore


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_PROGRAM", str(tmp_path / "cfg" / "program.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("POSTURE_DEVICE", raising=False)


def test_an_exercise_the_database_refuses_is_kept_and_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    code = main(["exercise", "run", "pelvic_tilt", "--device",
                 "sim:ex_pelvic_tilt?speed=0&seed=1", "--db", str(broken),
                 "--pain-before", "3", "--pain-after", "2"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot store the session" in err
    (kept,) = (tmp_path / "data").rglob("exercise-*.json")
    assert kept.parent.name == "unstored"
    assert str(kept) in err
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert json.loads(kept.read_text())["source"] == "exercise:pelvic_tilt"

    db = tmp_path / "s.sqlite3"
    assert main(["exercise", "restore", str(kept), "--db", str(db)]) == 0
    assert "recorded session 1" in capsys.readouterr().out
    assert not kept.exists()
    with SessionStore.open(db) as store:
        (info,) = store.sessions()
        assert info.source == "exercise:pelvic_tilt"
        assert info.ended_at is not None
        pain = [(e.data["when"], e.data["nrs"]) for e in store.events(info.id, "pain")]
        assert pain == [("before", 3), ("after", 2)]
        assert store.events(info.id, "exercise_set")


def test_rom_results_the_database_refuses_are_kept_and_restored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    code = main(["rom", "--device", "sim:rom_all?speed=0", "--test", "flexion", "--age", "45",
                 "--db", str(broken)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "cannot store the results" in err
    (kept,) = (tmp_path / "data").rglob("rom-*.json")
    assert str(kept) in err
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    payload = json.loads(kept.read_text())
    assert payload["source"] == "rom"
    assert payload["summary"][0].startswith("flexion: ")

    db = tmp_path / "s.sqlite3"
    assert main(["exercise", "restore", str(kept), "--db", str(db)]) == 0
    assert not kept.exists()
    with SessionStore.open(db) as store:
        (info,) = store.sessions()
        assert info.source == "rom"
        (rom,) = store.events(info.id, "rom")
        assert rom.data["test"] == "flexion"
        assert rom.data["age_years"] == 45.0
        assert rom.data["norm"] is not None


def test_restoring_a_file_that_is_no_kept_session_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"format": "something else"}')
    assert main(["exercise", "restore", str(other), "--db", str(tmp_path / "s.sqlite3")]) == 2
    assert str(other) in capsys.readouterr().err
    assert other.exists()


@pytest.mark.parametrize("argv", [["exercise", "run", "cat_camel"], ["rom", "--test", "flexion"]])
def test_never_connecting_exits_1_and_says_why(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = tmp_path / "no-such-port"
    code = main([*argv, "--device", f"serial:{port}", "--duration", "1",
                 "--db", str(tmp_path / "s.sqlite3")])  # fmt: skip
    assert code == 1
    assert "never connected" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite3").exists()
