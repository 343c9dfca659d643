"""Ground-truth trunk kinematics of the simulated wearer (pure, seeded, lazy).

:class:`Motion` turns a scenario script (:mod:`device_sim.scenarios`) into trunk orientation and
hip-pivot position at any times: the scripted posture plus small postural sway (a broadband,
roughly 1/f Gaussian-like process, seeded and random-access, see ``_sway_spectrum``), breathing
(a seeded sinusoid) and,
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


# Postural sway: a broadband, seeded, random-access approximation of a Gaussian process. Quiet-
# posture sway is stochastic with most of its power below ~1 Hz and a power-law spectrum:
# long-range correlated, roughly 1/f, over tens of seconds (Duarte & Zatsiorsky 2001, Phys Lett
# A 283:124, "Long-range correlations in human standing"; Delignières et al. 2011, PLoS Comput
# Biol 7:e1001089) and a persistent random walk, steeper, below ~1 s (Collins & De Luca 1993,
# Exp Brain Res 95:308, short-term Hurst exponent ≈ 0.7–0.8, i.e. spectral slope ≈ −2.5). [E]
# The corner and range below are our choice within that: S(f) ∝ 1/f from 0.02 to 0.5 Hz, then
# ∝ f^−2.5 up to 3 Hz (about 16 % of the variance above 0.5 Hz). Many components at log-spaced,
# jittered frequencies with Rayleigh amplitudes and uniform phases make each channel Gaussian
# with that spectrum; the realised variance is scaled to the channel's RMS (0.5° flexion, 0.35°
# lateral, 0.6° axial, as before). To stay cheap at any number of samples the sum is evaluated
# (value and slope) only at knots every _SWAY_KNOT_S and interpolated with cubic Hermite
# polynomials (error < 1 % of the few 1–3 Hz components, the signal stays C¹ for the gyroscope).
_SWAY_BAND_HZ = (0.02, 3.0)
_SWAY_CORNER_HZ = 0.5
_SWAY_SLOPES = (1.0, 2.5)  # spectral exponents below and above the corner
_SWAY_COMPONENTS = 48
_SWAY_KNOT_S = 0.05
_RUN = 256  # knots per angle-addition run


def _sway_spectrum(freq_hz: FloatArray) -> FloatArray:
    """Relative power spectral density of postural sway (see above)."""
    lo, hi = _SWAY_SLOPES
    below = freq_hz ** (-lo)
    above = _SWAY_CORNER_HZ ** (-lo) * (freq_hz / _SWAY_CORNER_HZ) ** (-hi)
    out: FloatArray = np.where(freq_hz <= _SWAY_CORNER_HZ, below, above)
    return out


class _Oscillators:
    """Seeded postural sway (broadband, see above), breathing and gait."""

    def __init__(self, rng: np.random.Generator) -> None:
        def components(rms_deg: float) -> tuple[FloatArray, FloatArray, FloatArray]:
            n = _SWAY_COMPONENTS
            edges = np.geomspace(_SWAY_BAND_HZ[0], _SWAY_BAND_HZ[1], n + 1)
            log_edges = np.log(edges)
            freq = np.exp(rng.uniform(log_edges[:-1], log_edges[1:]))
            width = np.diff(edges)
            amp = np.sqrt(2.0 * _sway_spectrum(freq) * width) * rng.rayleigh(1.0 / math.sqrt(2), n)
            amp *= rms_deg * math.sqrt(2.0) / np.sqrt(np.sum(amp**2))
            return 2.0 * math.pi * freq, amp, rng.uniform(0, 2 * math.pi, n)

        self.sway = {
            "flexion_deg": components(0.5),
            "lateral_deg": components(0.35),
            "axial_deg": components(0.6),
        }
        self.breath_hz = rng.uniform(0.2, 0.3)
        self.breath_phase = rng.uniform(0, 2 * math.pi)
        self.step_hz = rng.uniform(1.7, 1.9)
        self.gait_phase = rng.uniform(0, 2 * math.pi, 6)
        self._run_table: dict[str, tuple[FloatArray, FloatArray]] | None = None
        self._last_run: dict[str, tuple[int, FloatArray, FloatArray]] = {}

    def _run(self, channel: str, run: int) -> tuple[FloatArray, FloatArray]:
        """Sway (deg) and its rate (deg/s) at the _RUN knots from run·_RUN on (knot k is at
        k·_SWAY_KNOT_S), by angle addition: sin(ω(k₀ + j)h + φ) = sin(ωk₀h + φ)·cos(ωjh) +
        cos(ωk₀h + φ)·sin(ωjh), two matrix–vector products with a table made once instead of
        a sine per knot and component. Runs are aligned, so a knot's value never depends on
        which times were asked for (live and offline generation agree to the bit)."""
        omega, amp, phase = self.sway[channel]
        if self._run_table is None:
            steps = np.arange(_RUN) * _SWAY_KNOT_S
            self._run_table = {
                name: (np.cos(np.multiply.outer(steps, w)), np.sin(np.multiply.outer(steps, w)))
                for name, (w, _, _) in self.sway.items()
            }
        cos_j, sin_j = self._run_table[channel]
        start = (run * _RUN * _SWAY_KNOT_S) * omega + phase
        sb, cb = np.sin(start) * amp, np.cos(start) * amp
        value: FloatArray = cos_j @ sb + sin_j @ cb
        rate: FloatArray = cos_j @ (cb * omega) - sin_j @ (sb * omega)
        return value, rate

    def sway_deg(self, channel: str, t: FloatArray) -> FloatArray:
        """Sway of one channel at times ``t`` (any order), degrees."""
        if t.size == 0:
            return np.zeros_like(t)
        h = _SWAY_KNOT_S
        cell = np.floor(t / h).astype(np.int64)
        runs, index = np.unique(np.concatenate([cell, cell + 1]) // _RUN, return_inverse=True)
        values, rates = np.empty((runs.size, _RUN)), np.empty((runs.size, _RUN))
        for i, run in enumerate(runs.tolist()):
            cached = self._last_run.get(channel)
            if cached is None or cached[0] != run:  # live blocks reuse the run they are in
                cached = (run, *self._run(channel, run))
                self._last_run[channel] = cached
            values[i], rates[i] = cached[1], cached[2]
        flat = index * _RUN + np.concatenate([cell, cell + 1]) % _RUN
        value, rate = values.ravel(), rates.ravel()
        i0, i1 = flat[: t.size], flat[t.size :]
        u = t / h - cell
        u2, u3 = u * u, u * u * u
        out: FloatArray = (
            (2 * u3 - 3 * u2 + 1) * value[i0]
            + (u3 - 2 * u2 + u) * h * rate[i0]
            + (-2 * u3 + 3 * u2) * value[i1]
            + (u3 - u2) * h * rate[i1]
        )
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
