"""Exercise signals from the trunk's up vector (pure: no I/O, no wall clock).

Floor exercises put the trunk horizontal (quadruped, prone: pitch +90°; supine: −90°), where
the calibrated ``flexion_deg = asin(−up.x)`` folds back and ``lateral_deg`` loses its meaning.
The coach therefore rebuilds the body-frame up vector and measures every exercise **relative
to the start posture captured at the beginning of the set**:

* ``pitch``: rotation about the body's lateral axis (y, to the left) from the start posture,
  degrees; positive in the forward-flexion sense (the direction +flexion moves), continuous
  through ±90°.
* ``lateral``: change of the up vector's left/right component, ``asin(up.y)``, degrees;
  positive = toward the wearer's right (the shared lateral convention).
* ``tilt``: the whole angle between the up vector and the start up vector, degrees (≥ 0;
  weight shifts whose direction one back sensor cannot attribute to a limb).

Body frame (shared conventions): x anterior, y left, z up when upright;
``up_body = (−sin θ, cos θ sin φ, cos θ cos φ)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "POSTURES",
    "SIGNALS",
    "MoveBounds",
    "StartPosture",
    "StartWatch",
    "classify_posture",
    "move_bounds",
    "posture_error_deg",
    "relative_signals",
    "up_from_angles",
]

FloatArray = npt.NDArray[np.float64]

SIGNALS = ("pitch", "lateral", "tilt")

# Expected start postures: the body-frame up vector when the trunk is in that posture.
POSTURES: dict[str, tuple[float, float, float]] = {
    "standing": (0.0, 0.0, 1.0),
    "sitting": (0.0, 0.0, 1.0),
    "quadruped": (-1.0, 0.0, 0.0),  # trunk horizontal, belly down: up = posterior
    "prone": (-1.0, 0.0, 0.0),
    "supine": (1.0, 0.0, 0.0),  # lying on the back: up = anterior
    "half_kneeling": (0.0, 0.0, 1.0),
}


def up_from_angles(flexion_deg: FloatArray, lateral_deg: FloatArray) -> FloatArray:
    """Body-frame up vectors (N, 3) from calibrated flexion and lateral angles (degrees).

    Exact inverse of the shared angle formulas (θ = asin(−u.x) ∈ [−90°, 90°] keeps cos θ ≥ 0,
    φ = atan2(u.y, u.z) keeps the sign of u.z), so the live engine's posture output carries the
    whole up vector even when the trunk is horizontal.
    """
    theta = np.radians(np.asarray(flexion_deg, dtype=np.float64))
    phi = np.radians(np.asarray(lateral_deg, dtype=np.float64))
    ct = np.cos(theta)
    return np.stack([-np.sin(theta), ct * np.sin(phi), ct * np.cos(phi)], axis=-1)


def posture_error_deg(up_body: FloatArray, posture: str) -> FloatArray:
    """Angle (degrees) between each up vector and the ideal up vector of a start posture."""
    ref = np.array(POSTURES[posture])
    cos = np.clip(np.asarray(up_body, dtype=np.float64) @ ref, -1.0, 1.0)
    out: FloatArray = np.degrees(np.arccos(cos))
    return out


def classify_posture(up_body: FloatArray) -> str:
    """The nearest of standing/upright, quadruped-or-prone and supine for a mean up vector."""
    u = np.asarray(up_body, dtype=np.float64)
    if u[2] >= max(abs(u[0]), abs(u[1])):
        return "standing"
    return "quadruped" if u[0] < 0 else "supine"


@dataclass(frozen=True, slots=True)
class StartPosture:
    """The reference captured at the start of a set.

    Attributes:
        up_body: mean unit up vector in the body frame during the capture.
        posture: expected start posture name (a key of :data:`POSTURES`).
        error_deg: angle between the captured and the ideal up vector of ``posture``.
        t_s: time of the end of the capture, s.
    """

    up_body: tuple[float, float, float]
    posture: str
    error_deg: float
    t_s: float

    @staticmethod
    def capture(t_s: FloatArray, up_body: FloatArray, posture: str) -> StartPosture:
        """Average a still window of up vectors into a start reference."""
        mean = np.mean(np.asarray(up_body, dtype=np.float64), axis=0)
        mean = mean / max(float(np.linalg.norm(mean)), 1e-12)
        err = float(posture_error_deg(mean[None, :], posture)[0])
        return StartPosture(
            (float(mean[0]), float(mean[1]), float(mean[2])), posture, err, float(t_s[-1])
        )


def relative_signals(up_body: FloatArray, start: StartPosture) -> dict[str, FloatArray]:
    """``pitch``, ``lateral`` and ``tilt`` (degrees, each (N,)) relative to the start posture."""
    u = np.asarray(up_body, dtype=np.float64)
    u0 = np.array(start.up_body)
    # pitch: angle in the body x–z plane; up(θ) = (−sin θ, ·, cos θ) so θ = atan2(−u.x, u.z)
    pitch = np.arctan2(-u[:, 0], u[:, 2]) - math.atan2(-u0[0], u0[2])
    pitch = (pitch + math.pi) % (2.0 * math.pi) - math.pi
    lateral = np.arcsin(np.clip(u[:, 1], -1.0, 1.0)) - math.asin(max(-1.0, min(1.0, u0[1])))
    tilt = np.arccos(np.clip(u @ u0, -1.0, 1.0))
    return {"pitch": np.degrees(pitch), "lateral": np.degrees(lateral), "tilt": np.degrees(tilt)}


@dataclass(frozen=True, slots=True)
class MoveBounds:
    """Start and end of a point-to-point move estimated from its 50 % and 90 % crossings."""

    start_s: float
    end_s: float


# Human point-to-point movements follow the minimum-jerk profile 10τ³ − 15τ⁴ + 6τ⁵ closely
# (Flash & Hogan 1985). It crosses 50 % at τ = 0.5 and 90 % at τ ≈ 0.7534, so a move of length
# T ends T/2 after its 50 % crossing, with T = (t90 − t50) / 0.2534. Timing holds from these two
# well-defined crossings avoids both a noise-sensitive "stopped moving" threshold and the bias
# of a band around the plateau.
_T90 = 0.753364
_K = 0.5 / (_T90 - 0.5)


def move_bounds(t50_s: float, t90_s: float) -> MoveBounds:
    """Bounds of a min-jerk-like move from the times it crossed 50 % and 90 % of its amplitude.

    For a move *away* from the start, pass its 50 % and 90 % crossings (t90 > t50): the move
    ends at t50 + K·(t90 − t50). For a return, pass the 50 % crossing and the 90 %-remaining
    crossing before it (t90 < t50): the move starts at t50 − K·(t50 − t90).
    """
    half = _K * abs(t90_s - t50_s)
    return MoveBounds(t50_s - half, t50_s + half)


_STILL_WINDOW_S = 2.0
_STILL_MAX_DEG = 2.5
_POSTURE_MAX_DEG = 35.0


class StartWatch:
    """Waits for ``window_s`` of stillness in an expected start posture (streaming).

    Still means every up vector of the window within ``still_max_deg`` of the window's mean;
    the posture is accepted within ``posture_max_deg`` of its ideal up vector.
    """

    def __init__(
        self,
        posture: str,
        *,
        window_s: float = _STILL_WINDOW_S,
        still_max_deg: float = _STILL_MAX_DEG,
        posture_max_deg: float = _POSTURE_MAX_DEG,
    ) -> None:
        self.posture = posture
        self.window_s = window_s
        self.still_max_deg = still_max_deg
        self.posture_max_deg = posture_max_deg
        self.wrong_posture_s = math.nan  # time a still, wrong posture was last seen
        self._t: list[float] = []
        self._u: list[FloatArray] = []
        self._n = 0

    def update(self, t_s: FloatArray, up_body: FloatArray) -> tuple[StartPosture | None, int]:
        """Feed samples; returns (the start reference or None, index of the first unused one)."""
        for i in range(len(t_s)):
            t = float(t_s[i])
            self._t.append(t)
            self._u.append(up_body[i])
            while t - self._t[0] > self.window_s:
                del self._t[0], self._u[0]
            self._n += 1
            # check every 5th sample of the stream (not of the block: any chunking, same start)
            if t - self._t[0] < self.window_s - 0.05 or self._n % 5:
                continue
            win = np.array(self._u)
            mean = win.mean(axis=0)
            mean /= np.linalg.norm(mean)
            spread = float(np.degrees(np.arccos(np.clip(win @ mean, -1, 1))).max())
            if spread > self.still_max_deg:
                continue
            if posture_error_deg(mean[None, :], self.posture)[0] > self.posture_max_deg:
                self.wrong_posture_s = t
                continue
            return StartPosture.capture(np.array(self._t), win, self.posture), i + 1
        return None, len(t_s)
