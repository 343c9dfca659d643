"""Guided routine: prompts, retries with the reason, a working calibration at the end."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.model import NOMINAL_R_BS
from calibration.routine import RoutineSettings, run_routine
from calibration.synthetic import random_rotation, synthesize
from host.errors import CalibrationError
from host.samples import SampleBlock

RATE_HZ = 100.0


class _Stream:
    """Hands out consecutive stretches of a recording, like Engine.capture."""

    def __init__(self, block: SampleBlock) -> None:
        self.block = block
        self.pos = 0
        self.poses: list[str] = []

    async def capture(self, seconds: float) -> SampleBlock:
        n = round(seconds * RATE_HZ)
        part = self.block.slice(self.pos, self.pos + n)
        self.pos += n
        return part

    async def request_pose(self, pose: str) -> None:
        self.poses.append(pose)


def _wearer(mount: np.ndarray) -> SampleBlock:
    """0–2 s settle; 2–6 s fidgeting (rejected); 6–8 settle; 8–12 still upright; 12–14 bending
    to 35°; 14–17 holding still."""
    t = np.arange(0.0, 20.0, 1 / RATE_HZ)
    flex = np.where((t >= 2) & (t < 6), np.radians(8.0) * np.sin(2 * np.pi * 1.0 * t), 0.0)
    flex = flex + np.radians(35.0) * np.clip((t - 12.0) / 1.5, 0.0, 1.0)
    return synthesize(t, flex, np.zeros_like(t), r_bs=mount, seed=3).samples


async def test_routine_retries_then_calibrates() -> None:
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(9))
    stream = _Stream(_wearer(mount))
    messages: list[str] = []
    cal = await run_routine(
        stream.capture,
        messages.append,
        request_pose=stream.request_pose,
        device="sim",
        settings=RoutineSettings(settle_s=2.0, neutral_s=4.0, forward_s=3.0, attempts=3),
    )
    np.testing.assert_allclose(cal.r_bs, mount, atol=0.01)
    assert cal.method == "neutral+forward"
    assert any("you moved" in m for m in messages)
    assert stream.poses == ["upright", "upright", "forward_bend"]
    assert messages[-1].startswith("Calibrated")


async def test_routine_gives_up_with_the_last_reason() -> None:
    t = np.arange(0.0, 40.0, 1 / RATE_HZ)
    flex = np.radians(10.0) * np.sin(2 * np.pi * 0.8 * t)  # never still
    stream = _Stream(synthesize(t, flex, np.zeros_like(t)).samples)

    async def say(text: str) -> None:
        return None

    with pytest.raises(CalibrationError, match="you moved"):
        await run_routine(stream.capture, say, settings=RoutineSettings(attempts=2))
