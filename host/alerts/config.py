"""Alert values and policy configuration (pure): :class:`Alert`, :class:`AlertConfig`.

Defaults and their reasons: docs/alerts.md. ``None`` switches a rule or a limit off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from host.errors import ConfigError

__all__ = ["MODES", "Alert", "AlertConfig", "iso11226_holding_time_s"]

MODES = ("threshold", "iso11226")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert.

    Attributes:
        t_s: sample time at which the rule was met, seconds.
        kind: ``"slouch"``, ``"iso11226"``, ``"training"``, ``"stillness"`` or ``"sitting"``.
        start_s: start of the episode (slouch onset, still since, sitting since), seconds.
        peak_deg: largest flexion in the episode so far, degrees (NaN when not applicable).
        reason: one sentence: angle, duration and rule.
        severity: 1 gentle, 2 strong (after repeatedly ignored alerts).
    """

    t_s: float
    kind: str
    start_s: float
    peak_deg: float
    reason: str
    severity: int = 1

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form: ``t``, ``kind``, ``start``, ``peak_deg``, ``reason``, ``severity``."""
        return {
            "t": round(self.t_s, 4),
            "kind": self.kind,
            "start": round(self.start_s, 4),
            "peak_deg": None if math.isnan(self.peak_deg) else round(self.peak_deg, 2),
            "reason": self.reason,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Alert rules and limits; ``None`` switches a rule or limit off (reasons: docs/alerts.md).

    Attributes:
        mode: ``"threshold"`` (tolerance + delay) or ``"iso11226"`` (angle-dependent holding time).
        tolerance_deg: flexion beyond the calibrated neutral that counts as slouching, degrees.
        delay_s: how long the slouch must last before the alert, seconds.
        grace_s: returns below the tolerance shorter than this do not end the episode, seconds.
        hysteresis_deg: the episode clears only below ``tolerance_deg - hysteresis_deg``.
        iso_min_deg, iso_max_deg: ISO 11226 band of time-limited trunk inclination, degrees.
        iso_maht_min_s, iso_maht_max_s: acceptable holding time at those two angles, seconds.
        iso_hold_s: hold beyond ``iso_max_deg`` that is not acceptable, seconds.
        stillness_s: nudge after this long with no posture change (None: off), seconds.
        stillness_change_deg: what counts as a posture change, degrees.
        sitting_s: nudge after this long sitting (None: off), seconds.
        sitting_break_s: standing or walking this long ends a sitting bout, seconds.
        min_gap_s: minimum time between two alerts (None: off), seconds.
        max_per_hour, max_per_day: alert budgets over the last hour / 24 h (None: off).
        ignored_after_s: a slouch alert still unresolved this long after firing was ignored.
        escalate_after: consecutive ignored alerts before severity 2 (None: never).
        silence_after: this many ignored alerts within an hour silence alerts for an hour.
        pause_max_s: a pause resumes by itself after this long, seconds.
        training_delay_s: slouch delay during a training session, seconds.
        training_min_gap_s: minimum time between training feedbacks, seconds.
        training_final_fraction: share of slouches that get feedback at a session's end (fading
            linearly from all of them at its start).
    """

    mode: str = "threshold"
    tolerance_deg: float = 15.0
    delay_s: float = 120.0
    grace_s: float = 10.0
    hysteresis_deg: float = 5.0
    iso_min_deg: float = 20.0
    iso_max_deg: float = 60.0
    iso_maht_min_s: float = 240.0
    iso_maht_max_s: float = 60.0
    iso_hold_s: float = 4.0
    stillness_s: float | None = 1800.0
    stillness_change_deg: float = 10.0
    sitting_s: float | None = 3600.0
    sitting_break_s: float = 60.0
    min_gap_s: float | None = 600.0
    max_per_hour: int | None = 4
    max_per_day: int | None = 20
    ignored_after_s: float = 60.0
    escalate_after: int | None = 2
    silence_after: int | None = 3
    pause_max_s: float = 7200.0
    training_delay_s: float = 5.0
    training_min_gap_s: float = 20.0
    training_final_fraction: float = 0.33

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"alert mode {self.mode!r}: use one of {', '.join(MODES)}")
        if not 0.0 < self.tolerance_deg <= 90.0:
            raise ConfigError(f"tolerance_deg={self.tolerance_deg}: use 0 to 90 degrees")
        if self.delay_s < 0 or self.grace_s < 0 or self.hysteresis_deg < 0:
            raise ConfigError("delay_s, grace_s and hysteresis_deg must not be negative")
        if (
            not self.iso_min_deg < self.iso_max_deg
            or not self.iso_maht_min_s >= self.iso_maht_max_s
        ):
            raise ConfigError("ISO 11226 band: iso_min_deg < iso_max_deg, holding time shrinking")
        if not 0.0 < self.training_final_fraction <= 1.0:
            raise ConfigError("training_final_fraction must be in (0, 1]")

    @classmethod
    def simple(cls, threshold_deg: float, hold_s: float) -> AlertConfig:
        """ "Flexion above ``threshold_deg`` for longer than ``hold_s``", nothing else.

        Keeps the grace time, hysteresis and the walking/transition suppression; switches rate
        limiting, escalation, stillness and sitting nudges off, so policies can be compared.
        """
        return cls(
            mode="threshold",
            tolerance_deg=threshold_deg,
            delay_s=hold_s,
            stillness_s=None,
            sitting_s=None,
            min_gap_s=None,
            max_per_hour=None,
            max_per_day=None,
            escalate_after=None,
            silence_after=None,
        )

    @property
    def clear_below_deg(self) -> float:
        """Flexion below which a slouch episode's sample counts as a return, degrees."""
        return self.enter_above_deg - self.hysteresis_deg

    @property
    def enter_above_deg(self) -> float:
        """Flexion above which a sample is in the slouch zone, degrees."""
        return self.iso_min_deg if self.mode == "iso11226" else self.tolerance_deg


def iso11226_holding_time_s(flexion_deg: float, config: AlertConfig = AlertConfig()) -> float:
    """Acceptable holding time for a trunk inclination (ISO 11226, linearised), seconds.

    ``inf`` up to ``iso_min_deg``; linear from ``iso_maht_min_s`` there to ``iso_maht_max_s`` at
    ``iso_max_deg``; ``iso_hold_s`` beyond (not acceptable once held).
    """
    c = config
    if not flexion_deg > c.iso_min_deg:
        return math.inf
    if flexion_deg > c.iso_max_deg:
        return c.iso_hold_s
    frac = (flexion_deg - c.iso_min_deg) / (c.iso_max_deg - c.iso_min_deg)
    return c.iso_maht_min_s + frac * (c.iso_maht_max_s - c.iso_maht_min_s)
