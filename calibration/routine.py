"""Guided calibration routine: prompts, captures, retries with the reason (async).

The routine knows nothing about transports or UIs: it gets a ``capture(seconds)`` coroutine
(e.g. :meth:`host.engine.Engine.capture`), an optional ``request_pose(name)`` coroutine (the
simulator follows prompted poses; real sensors ignore it) and a ``prompt(text)`` callback that
shows instructions (terminal line, wizard page). Fitting is done by the pure
:mod:`calibration.procedures`; a rejected capture is repeated after telling the wearer why.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from calibration.model import Calibration
from calibration.procedures import fit_mounting
from host.errors import CalibrationError
from host.samples import SampleBlock

__all__ = ["RoutineSettings", "run_routine"]

logger = logging.getLogger(__name__)

Capture = Callable[[float], Awaitable[SampleBlock]]
Prompt = Callable[[str], Awaitable[None] | None]
RequestPose = Callable[[str], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class RoutineSettings:
    """Durations and retries of the guided routine.

    Attributes:
        settle_s: time to get into position after a prompt, s.
        neutral_s: length of the upright capture, s.
        forward_s: length of the forward-bend capture, s (0: skip the bend).
        attempts: tries per capture before giving up.
    """

    settle_s: float = 2.0
    neutral_s: float = 4.0
    forward_s: float = 3.0
    attempts: int = 3


async def _say(prompt: Prompt, text: str) -> None:
    result = prompt(text)
    if inspect.isawaitable(result):
        await result


async def run_routine(
    capture: Capture,
    prompt: Prompt,
    *,
    request_pose: RequestPose | None = None,
    device: str = "",
    settings: RoutineSettings | None = None,
) -> Calibration:
    """Guide the wearer through the neutral (and forward-bend) captures.

    Args:
        capture: coroutine returning the next ``seconds`` of samples.
        prompt: shows an instruction (sync or async).
        request_pose: asks a simulated wearer to take ``"upright"`` / ``"forward_bend"``.
        device: device identifier stored in the calibration.
        settings: durations and retries.

    Raises:
        CalibrationError: a capture still failed after ``settings.attempts`` tries (the message
            is the last reason).
    """
    cfg = settings or RoutineSettings()
    neutral = await _capture_still(
        capture, prompt, request_pose, cfg, "upright",
        "Sit upright, back straight, and keep still", cfg.neutral_s,
        lambda block: fit_mounting(block, None, device=device),
    )  # fmt: skip
    forward = None
    if cfg.forward_s > 0:
        forward = await _capture_still(
            capture, prompt, request_pose, cfg, "forward_bend",
            "Bend forward from the hips about 30° and hold still", cfg.forward_s,
            lambda block: fit_mounting(neutral, block, device=device),
        )  # fmt: skip
    calibration = fit_mounting(neutral, forward, device=device)
    await _say(prompt, "Calibrated: this upright posture is now 0°.")
    return calibration


async def _capture_still(
    capture: Capture,
    prompt: Prompt,
    request_pose: RequestPose | None,
    cfg: RoutineSettings,
    pose: str,
    instruction: str,
    seconds: float,
    check: Callable[[SampleBlock], Calibration],
) -> SampleBlock:
    """Prompt, settle, capture and validate; repeat with the reason on rejection."""
    reason = ""
    for attempt in range(1, cfg.attempts + 1):
        await _say(prompt, f"{instruction} for {seconds:.0f} s…")
        if request_pose is not None:
            await request_pose(pose)
        if cfg.settle_s > 0:
            await capture(cfg.settle_s)  # discard: the wearer is getting into position
        block = await capture(seconds)
        try:
            check(block)
        except CalibrationError as exc:
            reason = str(exc)
            logger.info("calibration %s capture %d rejected: %s", pose, attempt, reason)
            await _say(prompt, f"Let's try that again: {reason}")
            await asyncio.sleep(0)
            continue
        return block
    raise CalibrationError(reason or f"{pose} capture failed")
