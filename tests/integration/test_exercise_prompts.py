"""What the exercise and ROM commands say: a run ended before calibration says so, the ROM
prompts follow the calibration instead of contradicting it, the per-set lines follow the
prescription."""

from __future__ import annotations

import pytest

from host.cli import main


def test_duration_ending_before_calibration_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["exercise", "run", "bridge", "--device", "sim:ex_bridge?speed=2",
                 "--duration", "2", "--no-record"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "The run ended before calibration finished: nothing was counted." in out
    assert "start position for 2 s" not in out


def test_rom_prompt_comes_after_calibration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rom", "--device", "sim:rom_flexion?speed=0", "--test", "flexion",
                 "--no-record"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    calibrated = next(i for i, line in enumerate(lines) if line.startswith("Calibrated"))
    prompt = next(i for i, line in enumerate(lines) if line.startswith("[flexion] Stand still"))
    assert lines.index("Calibration: sit upright and still…") < calibrated < prompt
    assert "get into position" not in lines[calibrated]


def test_short_holds_against_the_prescription(capsys: pytest.CaptureFixture[str]) -> None:
    device = "sim:ex_hamstring_stretch?speed=0"
    args = ["exercise", "run", "hamstring_stretch", "--device", device, "--hold", "90"]
    assert main([*args, "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "done: well done!" not in out
    assert "done: 0/3 holds of 90 s — next time aim for 3" in out
    assert "set 1: 0/3 holds of 90 s (held " in out
