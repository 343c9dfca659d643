"""Synthetic hold sessions under several models of postural sway (for benchmarks and tests).

Hold timing must not rest on one model of sway (the simulator's). Each family here is a
stationary Gaussian process on pitch and lateral, generated independently of the simulator and
scaled to ``rms_deg`` per axis:

* ``smooth``: the old simulator's kind of sway, many random-phase sinusoids between 0.03 and
  0.5 Hz (log-uniform): smooth and slow.
* ``power_law``: 1/f up to 0.5 Hz, then f^−2.5 up to 5 Hz (trunk/COP sway literature: most
  power below 1 Hz, long-range correlated; Duarte & Zatsiorsky 2001, Collins & De Luca 1993),
  synthesised in the frequency domain with random Gaussian coefficients.
* ``random_walk``: an Ornstein–Uhlenbeck process with a 0.1 Hz corner (1/f² above it; the
  short-term random walk of Collins & De Luca 1993), plus 0.05° white sensor noise.
* ``osc_0.3``: a lightly damped (ζ = 0.1) 0.3 Hz oscillator driven by white noise, plus 0.05°
  white noise.
* ``damped_0.3``: a well-damped (ζ = 0.7) 0.3 Hz oscillator driven by white noise.
* ``osc_0.5``: a lightly damped 0.5 Hz oscillator plus 0.05° white noise (sway as fast as the
  moves are slow: the hardest).

:func:`hold_session` puts holds of a 5–7° lateral shift (the bird-dog and single-leg stance
range) on top: sides alternating, min-jerk moves of 1.4–2.5 s, holds of 8–25 s, rests of
6–10 s, and returns the true hold bounds.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from device_sim.script import min_jerk
from host.exercise.counting import Hold, HoldDetector, held_time

__all__ = [
    "FAMILIES",
    "RATE_HZ",
    "ThresholdHoldDetector",
    "detect",
    "hold_session",
    "sway",
    "timing_errors",
]

FloatArray = npt.NDArray[np.float64]
RATE_HZ = 100.0
FAMILIES = ("smooth", "power_law", "random_walk", "osc_0.3", "damped_0.3", "osc_0.5")
_SENSOR_NOISE_DEG = 0.05


def _scaled(x: FloatArray, rms_deg: float) -> FloatArray:
    x = x - np.mean(x)
    out: FloatArray = x * (rms_deg / max(float(np.std(x)), 1e-12))
    return out


def _oscillator(
    rng: np.random.Generator, n: int, freq_hz: float, damping: float, rms_deg: float
) -> FloatArray:
    """x'' + 2ζωx' + ω²x = white noise, as the exact AR(2) of its sampled impulse response."""
    dt = 1.0 / RATE_HZ
    w = 2.0 * math.pi * freq_hz
    r = math.exp(-damping * w * dt)
    wd = w * math.sqrt(max(1.0 - damping**2, 1e-6))
    a1, a2 = 2.0 * r * math.cos(wd * dt), -r * r
    warm = int(20.0 / (damping * freq_hz) + 1) if damping > 0 else 1000
    e = rng.normal(size=n + warm)
    x = np.zeros(n + warm)
    for i in range(2, n + warm):
        x[i] = a1 * x[i - 1] + a2 * x[i - 2] + e[i]
    return _scaled(x[warm:], rms_deg)


def _spectral(rng: np.random.Generator, n: int, psd: FloatArray, rms_deg: float) -> FloatArray:
    """Gaussian noise with a relative power spectral density given on rfftfreq(n)."""
    coef = (rng.normal(size=psd.size) + 1j * rng.normal(size=psd.size)) * np.sqrt(psd)
    coef[0] = 0.0
    return _scaled(np.fft.irfft(coef, n), rms_deg)


def sway(family: str, rng: np.random.Generator, n: int, rms_deg: float) -> FloatArray:
    """``n`` samples at RATE_HZ of one axis of sway of ``family``, ``rms_deg`` RMS.

    Raises:
        KeyError: unknown family.
    """
    noise = rng.normal(0.0, _SENSOR_NOISE_DEG, n)
    if family == "smooth":
        t = np.arange(n) / RATE_HZ
        freq = np.exp(rng.uniform(math.log(0.03), math.log(0.5), 200))
        phase = rng.uniform(0.0, 2.0 * math.pi, 200)
        return _scaled(np.sin(np.multiply.outer(t, 2.0 * math.pi * freq) + phase).sum(1), rms_deg)
    if family in ("power_law", "random_walk"):
        m = 2 * n  # longer than the session: the lowest frequencies are not periodic in it
        f = np.fft.rfftfreq(m, 1.0 / RATE_HZ)
        f[0] = f[1]
        if family == "power_law":
            psd = np.where(f <= 0.5, 1.0 / f, 2.0 * (f / 0.5) ** -2.5)
            psd[(f < 0.01) | (f > 5.0)] = 0.0
        else:
            psd = 1.0 / (0.1**2 + f**2)
        x = _spectral(rng, m, psd, rms_deg)[:n]
        return _scaled(x, rms_deg) + (noise if family == "random_walk" else 0.0)
    if family == "osc_0.3":
        return _oscillator(rng, n, 0.3, 0.1, rms_deg) + noise
    if family == "damped_0.3":
        return _oscillator(rng, n, 0.3, 0.7, rms_deg)
    if family == "osc_0.5":
        return _oscillator(rng, n, 0.5, 0.1, rms_deg) + noise
    raise KeyError(family)


def hold_session(
    family: str, seed: int, holds: int = 4, rms_deg: float = 0.6
) -> tuple[FloatArray, FloatArray, FloatArray, list[tuple[float, float]]]:
    """(t s, pitch deg, lateral deg, true (start s, end s) of each hold) of a synthetic
    session: rest, then ``holds`` lateral-shift holds under sway of ``family`` on both axes."""
    rng = np.random.default_rng([seed, FAMILIES.index(family)])
    plan = []
    t0 = 10.0
    for i in range(holds):
        shift = rng.uniform(5.0, 7.0) * (1 if i % 2 == 0 else -1)
        move_in, move_out = rng.uniform(1.4, 2.5, 2)
        held = rng.uniform(8.0, 25.0)
        plan.append((t0, move_in, held, move_out, shift))
        t0 += move_in + held + move_out + rng.uniform(6.0, 10.0)
    t = np.arange(0.0, t0 + 5.0, 1.0 / RATE_HZ)
    lateral = sway(family, rng, t.size, rms_deg)
    pitch = sway(family, rng, t.size, rms_deg)
    truth = []
    for start, move_in, held, move_out, shift in plan:
        end = start + move_in + held
        lateral = lateral + shift * (
            min_jerk((t - start) / move_in) - min_jerk((t - end) / move_out)
        )
        truth.append((start + move_in, end))
    return t, pitch, lateral, truth


class ThresholdHoldDetector(HoldDetector):
    """The hold detector as it was before whole-move fits (the peer of the benchmarks): the
    hold is timed by :func:`held_time` on the magnitude, from the last sample below the exit
    level before the hold was entered (no history before the move in)."""

    def _bounds(
        self, t_s: FloatArray, mag: FloatArray, along: FloatArray, entered_s: float, left_s: float
    ) -> tuple[float, float]:
        before = np.flatnonzero((t_s < entered_s) & (mag < self.config.exit_deg))
        first = int(before[-1]) if before.size else 0
        _, start, end = held_time(t_s[first:], mag[first:])
        return start, end


def detect(
    detector: HoldDetector, t: FloatArray, pitch: FloatArray, lateral: FloatArray, block: int = 10
) -> list[Hold]:
    """Feed a session to ``detector`` in live-sized blocks (the magnitude is |lateral|)."""
    found: list[Hold] = []
    for i in range(0, t.size, block):
        s = slice(i, i + block)
        found += detector.update(t[s], np.abs(lateral[s]), pitch[s], lateral[s])
    return found


def timing_errors(
    found: list[Hold], truth: list[tuple[float, float]]
) -> tuple[list[float], int, int]:
    """(|measured − true hold time| of each true hold found, missed holds, phantom holds)."""
    errors, missed = [], 0
    for start, end in truth:
        same = [h for h in found if min(h.end_s, end) > max(h.start_s, start)]
        if same:
            errors.append(abs(same[0].hold_s - (end - start)))
        else:
            missed += 1
    phantom = sum(
        1 for h in found if not any(min(h.end_s, e) > max(h.start_s, s) for s, e in truth)
    )
    return errors, missed, phantom
