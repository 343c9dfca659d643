"""``posture`` itself (host/cli.py): usage errors, --version, argument messages, exit codes."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest

from host.cli import EXIT_DEVICE, EXIT_USAGE, main


def _usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == EXIT_USAGE
    return capsys.readouterr().err


def test_version_comes_from_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"posture {version('posture-companion')}\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["-v", "--bogus"], "unrecognized arguments: --bogus"),
        (["bogus"], "argument COMMAND: invalid choice: 'bogus'"),
        ([], "the following arguments are required: COMMAND"),
        (["-v"], "the following arguments are required: COMMAND"),
        (["program"], "posture program: error: the following arguments are required: ACTION"),
        (["exercise"], "the following arguments are required: ACTION"),
    ],
)
def test_usage_errors_say_what_is_wrong(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert message in _usage_error(capsys, *argv)


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_a_bad_date_is_explained_not_named_after_the_parser(
    capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    err = _usage_error(capsys, "stats", flag, "2026-13-01")
    assert f"argument {flag}: '2026-13-01' is not a date; use YYYY-MM-DD" in err
    assert "parse_date" not in err


def test_a_bad_session_id_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(capsys, "stats", "abc")
    assert "argument SESSION: 'abc' is not a session id" in err


def test_a_damaged_database_is_exit_1_as_the_legend_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"\x00garbage" * 4096)
    assert main(["sessions", "--db", str(bad)]) == EXIT_DEVICE
    assert "not a session database" in capsys.readouterr().err
    from host.cli import _EPILOG

    legend = _EPILOG.partition("exit codes:")[2]
    assert "1 " in legend
    assert "damaged" in legend
