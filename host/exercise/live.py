"""Live plumbing for the exercise and ROM commands: calibration at connect and a feeder.

Not pure (asyncio, the engine). The coach and ROM checks stay pure: :class:`Feeder` is an
:class:`~host.engine.EngineListener` that turns each block of the engine's posture output back
into body-frame up vectors (exact: :func:`host.exercise.signals.up_from_angles`) and hands them
to a consumer, on the engine's thread.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import numpy as np

from calibration.model import Calibration
from host.engine import Engine, EngineListener, LiveUpdate
from host.errors import CalibrationError
from host.exercise.signals import up_from_angles
from host.samples import SampleBlock

__all__ = ["Feeder", "calibrate_at_start"]

logger = logging.getLogger(__name__)

Say = Callable[[str], None]
Consumer = Callable[[np.ndarray, np.ndarray], None]


class Feeder(EngineListener):
    """Passes calibrated up vectors (body frame) of every processed block to ``consumer``."""

    def __init__(self, consumer: Consumer, say: Say) -> None:
        self.consumer = consumer
        self.say = say
        self.enabled = False
        self.samples = 0

    def on_update(self, update: LiveUpdate) -> None:
        if not self.enabled:
            return
        p = update.posture
        ok = np.isfinite(p.flexion_deg) & np.isfinite(p.lateral_deg)
        if not np.any(ok):
            return
        self.samples += int(np.count_nonzero(ok))
        self.consumer(p.t_s[ok], up_from_angles(p.flexion_deg[ok], p.lateral_deg[ok]))

    def on_error(self, message: str) -> None:
        self.say(f"error: {message}")


def _tail(block: SampleBlock, seconds: float) -> SampleBlock:
    if len(block) == 0:
        return block
    first = int(np.searchsorted(block.t_s, block.t_s[-1] - seconds))
    return block.slice(first, len(block))


async def calibrate_at_start(
    engine: Engine, say: Say, then: str = "Sit up again, then get into position."
) -> Calibration:
    """Upright capture (8 s, the last 6 used) then a forward bend (8 s, the last 4 used).

    This matches every simulator scenario's preamble (upright 0–10 s, bend held 12–16 s), and
    a real wearer follows the prompts. Without a usable bend the nominal anterior axis is used.
    ``then`` ends the last prompt (what to do next; "" when the caller says it).

    Raises:
        CalibrationError: the upright capture was not still (the message says why).
    """
    from calibration.procedures import fit_mounting

    say("Calibration: sit upright and still…")
    neutral = _tail(await engine.capture(8.0), 6.0)
    say("Now bend forward about 30° and hold it…")
    forward = _tail(await engine.capture(8.0), 4.0)
    try:
        calibration = fit_mounting(neutral, forward, device=engine.config.device)
    except CalibrationError as exc:
        logger.info("forward bend unusable (%s); upright only", exc)
        calibration = fit_mounting(neutral, None, device=engine.config.device)
    await engine.set_calibration(calibration)
    bend = calibration.forward_bend_deg
    say(
        "Calibrated"
        + ("" if bend is None or not math.isfinite(bend) else f" (bend {bend:.0f}°)")
        + "."
        + (f" {then}" if then else "")
    )
    return calibration
