"""Live-engine options: durations that would mean "nothing" or "never" are usage errors."""

from __future__ import annotations

import pytest

from host.cli import main


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "abc"])
@pytest.mark.parametrize(
    "argv",
    [
        ["record", "--duration"],
        ["monitor", "--duration"],
        ["monitor", "--calibrate-seconds"],
        ["exercise", "run", "cat_camel", "--duration"],
        ["rom", "--duration"],
    ],
)
def test_non_positive_or_non_finite_seconds_exit_2(
    argv: list[str], value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([*argv, value, "--device", "sim:desk_day?speed=0"])
    assert info.value.code == 2
    assert value in capsys.readouterr().err
