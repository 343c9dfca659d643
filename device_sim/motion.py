"""Ground-truth trunk kinematics of the simulated wearer (pure, seeded, lazy).

:class:`Motion` turns a scenario script (:mod:`device_sim.scenarios`) into trunk orientation and
hip-pivot position at any times: the scripted posture plus small postural sway and breathing
(sums of sinusoids with seeded frequencies and phases, so they are smooth and random-access) and,
while walking, step-synchronous oscillations (fusion notes §5: ≈1.8 Hz, ±2.5 m/s² vertical,
±1.5 m/s² antero-posterior, ±0.8 m/s² medio-lateral at half the step rate).

Conventions (docs/architecture.md, shared): body x anterior, y left, z up; world z up;
``R_wb = Rz(heading)·Ry(flexion)·Rx(lateral)·Rz(axial)``; flexion > 0 is forward, lateral > 0 is
a bend to the wearer's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from device_sim import quat
from device_sim.scenarios import (
    PREAMBLE_S,
    SCENARIOS,
    SITTING_Z_M,
    STANDING_Z_M,
    Scenario,
    preamble,
)
from device_sim.script import ACTIVITIES, ScriptBuilder, SlouchEpisode

__all__ = [
    "ACTIVITIES",
    "HANDLING_POSES",
    "POSES",
    "PREAMBLE_S",
    "SCENARIOS",
    "Kinematics",
    "Motion",
    "SlouchEpisode",
    "scenario_names",
]

FloatArray = npt.NDArray[np.float64]

_EXTEND_S = 600.0  # the script is written this far ahead of what is evaluated
_DEG = math.pi / 180.0

# Guided poses the wearer can be asked for: channel targets and the activity label.
POSES: dict[str, tuple[dict[str, float], str]] = {
    "upright": ({"flexion_deg": 0.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "sitting"),
    "forward_bend": ({"flexion_deg": 35.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "bending"),
    "slouch": ({"flexion_deg": 28.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "sitting"),
    "lean_back": ({"flexion_deg": -15.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "sitting"),
    "stand": ({"flexion_deg": 0.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "standing"),
    "walk": ({"flexion_deg": 4.0, "lateral_deg": 0.0, "axial_deg": 0.0}, "walking"),
}


# Six-position poses for accelerometer calibration: the SENSOR axis that points up.
HANDLING_POSES: dict[str, tuple[float, float, float]] = {
    "x_up": (1.0, 0.0, 0.0),
    "x_down": (-1.0, 0.0, 0.0),
    "y_up": (0.0, 1.0, 0.0),
    "y_down": (0.0, -1.0, 0.0),
    "z_up": (0.0, 0.0, 1.0),
    "z_down": (0.0, 0.0, -1.0),
}


def scenario_names() -> list[str]:
    """Names of every scenario, in listing order."""
    return list(SCENARIOS)


@dataclass(frozen=True, slots=True, eq=False)
class Kinematics:
    """Trunk state at N times.

    Attributes:
        t_s: (N,) script time, s.
        q_wb: (N, 4) trunk orientation, body → world quaternion (w, x, y, z).
        pivot_world_m: (N, 3) hip pivot position in the world frame, m.
        flexion_deg, lateral_deg: (N,) truth angles from the body-frame up vector (shared
            formulas: asin(−up.x), atan2(up.y, up.z)).
        rotation_deg: (N,) scripted axial rotation ρ.
        up_body: (N, 3) unit "up" in the body frame.
        activity: (N,) int8 index into :data:`ACTIVITIES`.
        slouch: (N,) inside a designed slouch episode.
    """

    t_s: FloatArray
    q_wb: FloatArray
    pivot_world_m: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    rotation_deg: FloatArray
    up_body: FloatArray
    activity: npt.NDArray[np.int8]
    slouch: npt.NDArray[np.bool_]


class _Oscillators:
    """Seeded sums of sinusoids: postural sway, breathing and gait."""

    def __init__(self, rng: np.random.Generator) -> None:
        def components(n: int, rms_deg: float) -> tuple[FloatArray, FloatArray, FloatArray]:
            freq = np.exp(rng.uniform(math.log(0.03), math.log(0.5), n))
            amp = rng.uniform(0.5, 1.0, n)
            amp *= rms_deg * math.sqrt(2.0) / np.sqrt(np.sum(amp**2))
            return freq, amp, rng.uniform(0, 2 * math.pi, n)

        self.sway = {
            "flexion_deg": components(5, 0.5),
            "lateral_deg": components(4, 0.35),
            "axial_deg": components(4, 0.6),
        }
        self.breath_hz = rng.uniform(0.2, 0.3)
        self.breath_phase = rng.uniform(0, 2 * math.pi)
        self.step_hz = rng.uniform(1.7, 1.9)
        self.gait_phase = rng.uniform(0, 2 * math.pi, 6)

    def sway_deg(self, channel: str, t: FloatArray) -> FloatArray:
        freq, amp, phase = self.sway[channel]
        out = np.zeros_like(t)
        for f, a, p in zip(freq, amp, phase, strict=True):
            out += a * np.sin(2 * math.pi * f * t + p)
        return out

    def breath(self, t: FloatArray) -> FloatArray:
        return np.sin(2 * math.pi * self.breath_hz * t + self.breath_phase)

    def gait(self, t: FloatArray) -> tuple[FloatArray, ...]:
        """Gait oscillations: flexion, lateral, axial (deg); vertical, AP, ML displacement (m)."""
        w_step = 2 * math.pi * self.step_hz
        w_stride = w_step / 2.0
        p = self.gait_phase
        return (
            1.0 * np.sin(w_step * t + p[0]),
            2.0 * np.sin(w_stride * t + p[1]),
            3.0 * np.sin(w_stride * t + p[2]),
            (2.5 / w_step**2) * np.sin(w_step * t + p[3]),
            (1.5 / w_step**2) * np.sin(w_step * t + p[4]),
            (0.8 / w_stride**2) * np.sin(w_stride * t + p[5]),
        )


def _trunk_quaternion(
    heading: FloatArray, theta: FloatArray, phi: FloatArray, rho: FloatArray
) -> FloatArray:
    """q = qz(ψ)·qy(θ)·qx(φ)·qz(ρ), written out (4× faster than generic products)."""
    ch, sh = np.cos(heading / 2), np.sin(heading / 2)
    ct, st = np.cos(theta / 2), np.sin(theta / 2)
    cp, sp = np.cos(phi / 2), np.sin(phi / 2)
    cr, sr = np.cos(rho / 2), np.sin(rho / 2)
    # a = qy(θ)·qx(φ) = (ct·cp, ct·sp, st·cp, −st·sp)
    aw, ax, ay, az = ct * cp, ct * sp, st * cp, -st * sp
    # then b = a times qz(ρ)
    bw, bx, by, bz = aw * cr - az * sr, ax * cr + ay * sr, ay * cr - ax * sr, az * cr + aw * sr
    q = np.empty((heading.size, 4))
    # qz(ψ)·b
    q[:, 0] = ch * bw - sh * bz
    q[:, 1] = ch * bx - sh * by
    q[:, 2] = ch * by + sh * bx
    q[:, 3] = ch * bz + sh * bw
    return q


class Motion:
    """Trunk kinematics of one scenario and seed, scripted lazily as far as it is evaluated.

    Args:
        scenario: a key of :data:`SCENARIOS`.
        seed: the same seed gives the same wearer, day and motion.

    Raises:
        KeyError: unknown scenario (callers turn this into a ConfigError with the list).
    """

    def __init__(self, scenario: str, seed: int = 0) -> None:
        self.scenario: Scenario = SCENARIOS[scenario]
        self.seed = seed
        self._rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5C3]))
        self._osc = _Oscillators(np.random.default_rng(np.random.SeedSequence([seed, 0x05C])))
        self._state: dict[str, float] = {}
        self._builder = ScriptBuilder()
        b = self._builder
        preamble(b)
        if self.scenario.sway_after_preamble > 0:
            b.move(2.0, sway=self.scenario.sway_after_preamble)

    @property
    def default_duration_s(self) -> float:
        return self.scenario.default_minutes * 60.0

    def extend_to(self, t_s: float) -> None:
        """Make sure the script covers ``t_s`` (plus some margin)."""
        b = self._builder
        target = t_s + _EXTEND_S
        while b.t_s < target:
            self.scenario.cycle(b, self._rng, self._state)

    def episodes(self, until_s: float | None = None) -> list[SlouchEpisode]:
        """Designed slouch episodes starting before ``until_s`` (all scripted ones if None)."""
        episodes = self._builder.episodes
        return [e for e in episodes if until_s is None or e.start_s < until_s]

    def request(
        self, t_s: float, pose: str | tuple[float, float], *, mount_q_bs: FloatArray | None = None
    ) -> None:
        """Glide to a pose from ``t_s`` on (guided scenario; any scenario accepts it).

        Args:
            t_s: script time at which the wearer starts moving.
            pose: a key of :data:`POSES` or :data:`HANDLING_POSES` (then ``mount_q_bs``, the
                sensor → body rotation, is needed), or (flexion_deg, lateral_deg).

        Raises:
            KeyError: unknown pose name.
        """
        if isinstance(pose, str) and pose in HANDLING_POSES:
            # body angles that put the sensor axis up: up_body = R_bs · axis (axial ρ = 0)
            if mount_q_bs is None:
                raise ValueError("a handling pose needs the sensor mounting (mount_q_bs)")
            up = quat.rotate(mount_q_bs, np.array(HANDLING_POSES[pose]))
            pose = (
                math.degrees(math.asin(max(-1.0, min(1.0, -float(up[0]))))),
                math.degrees(math.atan2(float(up[1]), float(up[2]))),
            )
        elif isinstance(pose, str) and pose not in POSES:
            raise KeyError(pose)
        b = self._builder
        b.truncate(t_s)
        if b.slouch_open() or (b.episodes and b.episodes[-1].end_s >= t_s):
            b.end_slouch(2.0)
        if isinstance(pose, tuple):
            targets = {"flexion_deg": pose[0], "lateral_deg": pose[1], "axial_deg": 0.0}
            activity, walking, standing = "handling", 0.0, False
        else:
            targets, activity = POSES[pose]
            walking, standing = float(pose == "walk"), pose in ("stand", "walk")
        big = (
            abs(targets["flexion_deg"] - b.value("flexion_deg")) > 60
            or abs(targets["lateral_deg"] - b.value("lateral_deg")) > 60
        )
        duration = 3.0 if big else 2.0
        if pose == "slouch":
            b.begin_slouch(duration, targets["flexion_deg"])
        b.move(
            duration,
            activity,
            pivot_z_m=STANDING_Z_M if standing else SITTING_Z_M,
            walk=walking,
            # guided stays still; other scenarios keep their sway when they resume after it
            sway=1.0 if walking else self.scenario.sway_after_preamble,
            **targets,
        )

    def evaluate(self, t_s: FloatArray) -> Kinematics:
        """Kinematics at times ``t_s`` (1-D, any order), extending the script as needed."""
        t = np.asarray(t_s, dtype=np.float64)
        if t.size:
            self.extend_to(float(t.max()))
        tracks = self._builder.tracks
        walk = tracks["walk"].evaluate(t)
        sway = tracks["sway"].evaluate(t)
        angles = {}
        for name in ("flexion_deg", "lateral_deg", "axial_deg"):
            angles[name] = tracks[name].evaluate(t)
            if np.any(sway > 0):
                angles[name] += sway * self._osc.sway_deg(name, t)
        breath = sway * self._osc.breath(t)
        angles["flexion_deg"] += 0.25 * breath
        pivot = np.stack(
            [tracks[c].evaluate(t) for c in ("pivot_x_m", "pivot_y_m", "pivot_z_m")], axis=-1
        )
        pivot[:, 2] += 0.0015 * breath
        heading = tracks["heading_deg"].evaluate(t) * _DEG
        walking = np.flatnonzero(walk > 0)
        if walking.size:  # gait only where it matters: most of a day is not walking
            env = walk[walking]
            tw, hw = t[walking], heading[walking]
            gait = self._osc.gait(tw)
            for i, name in enumerate(("flexion_deg", "lateral_deg", "axial_deg")):
                angles[name][walking] += env * gait[i]
            pivot[walking, 2] += env * gait[3]
            # antero-posterior and medio-lateral gait sway follow the heading
            ap, ml = env * gait[4], env * gait[5]
            pivot[walking, 0] += ap * np.cos(hw) - ml * np.sin(hw)
            pivot[walking, 1] += ap * np.sin(hw) + ml * np.cos(hw)
        theta = angles["flexion_deg"] * _DEG
        phi = angles["lateral_deg"] * _DEG
        rho = angles["axial_deg"] * _DEG
        q_wb = _trunk_quaternion(heading, theta, phi, rho)
        # up in the body frame, closed form: Rz(ρ)ᵀ (−sin θ, cos θ sin φ, cos θ cos φ)
        st, ct = np.sin(theta), np.cos(theta)
        ux, uy, uz = -st, ct * np.sin(phi), ct * np.cos(phi)
        cr, sr = np.cos(rho), np.sin(rho)
        up_body = np.empty((t.size, 3))
        up_body[:, 0] = cr * ux + sr * uy
        up_body[:, 1] = cr * uy - sr * ux
        up_body[:, 2] = uz
        return Kinematics(
            t_s=t,
            q_wb=q_wb,
            pivot_world_m=pivot,
            flexion_deg=np.degrees(np.arcsin(np.clip(-up_body[:, 0], -1.0, 1.0))),
            lateral_deg=np.degrees(np.arctan2(up_body[:, 1], up_body[:, 2])),
            rotation_deg=angles["axial_deg"],
            up_body=up_body,
            activity=self._builder.activity_codes(t),
            slouch=self._builder.slouch_flags(t),
        )
