"""The alert policy engine (pure): :class:`AlertPolicy`, the rules, gates and controls.

Rule semantics are defined per sample in :meth:`AlertPolicy._step`; :mod:`host.alerts.fastpath`
skips spans where no rule can change anything. Rules and defaults: :mod:`host.alerts` and
docs/alerts.md.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from host.alerts import fastpath
from host.alerts.config import Alert, AlertConfig, iso11226_holding_time_s
from host.errors import ConfigError
from host.posture import Activity, PostureBlock

__all__ = ["AlertPolicy"]

logger = logging.getLogger(__name__)

DOSE_UNIT = 1_000_000_000  # exposure in integer nano-doses: exact, chunk-independent sums
_FAST_MIN_SAMPLES = 32  # blocks at least this long use the fast path
_MAX_STEP_S = 1.0  # a longer time step (a gap) adds at most this much exposure or dwell
HOUR_S = 3600.0
DAY_S = 86400.0
WALKING = int(Activity.WALKING)
TRANSITION = int(Activity.TRANSITION)
SITTING = int(Activity.SITTING)
STANDING = int(Activity.STANDING)
UNKNOWN = int(Activity.UNKNOWN)


@dataclass(slots=True)
class _Episode:
    onset_s: float
    last_in_s: float
    peak_deg: float
    dose: int = 0  # ISO exposure, nano-doses
    handled: bool = False  # alerted, or dropped by a snooze/pause
    alerted_at_s: float | None = None
    deferred: bool = False
    training: bool = False


@dataclass(slots=True)
class _Training:
    start_s: float
    duration_s: float
    credit: float = 0.5  # feedback is given when the credit reaches 1 (fading schedule)


@dataclass(slots=True)
class _Stats:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class AlertPolicy:
    """Streaming alert engine; feed it consecutive :class:`PostureBlock` s of one stream.

    Args:
        config: rules and limits.
    """

    def __init__(self, config: AlertConfig = AlertConfig()) -> None:  # noqa: B008 (frozen)
        self.config = config
        self._fast = True  # skip idle spans in bulk (tests compare against per-sample)
        self._last_t: float | None = None
        self._in_zone = False
        self._episode: _Episode | None = None
        self._last_flexion = math.nan
        self._snooze_until: float | None = None
        self._paused = False
        self._pause_until: float | None = None
        self._silence_until: float | None = None
        self._fired: deque[float] = deque()  # rate-limited alert times in the last 24 h
        self._last_alert_t: float | None = None
        self._last_training_t: float | None = None
        self._ignored: deque[float] = deque()  # ignored alert verdict times, last hour
        self._consecutive_ignored = 0
        self._still_ref: tuple[float, float] | None = None
        self._still_since: float | None = None
        self._sit_since: float | None = None
        self._not_sitting_since: float | None = None
        self._training: _Training | None = None
        self._next_allowed_t: float | None = None  # rate limits pass again from here
        self._still_deferred = False
        self._sit_deferred = False
        self._stats = _Stats()
        self._lateral: npt.NDArray[np.float64] = np.zeros(0)

    # ------------------------------------------------------------------ controls

    def snooze(self, until_t_s: float) -> None:
        """No alerts until sample time ``until_t_s``; resumes by itself."""
        self._snooze_until = until_t_s
        self._stats.add("snoozes")

    def pause(self) -> None:
        """No alerts until :meth:`resume`, or for ``pause_max_s`` at most (resumes by itself)."""
        self._paused = True
        self._pause_until = None if self._last_t is None else self._last_t + self.config.pause_max_s
        self._stats.add("pauses")

    def resume(self) -> None:
        """End a pause or a snooze now."""
        self._paused = False
        self._pause_until = None
        self._snooze_until = None

    def start_training(self, t_s: float, duration_s: float) -> None:
        """Start an opt-in training session: quick feedback that fades over the session.

        Args:
            t_s: session start (sample time), seconds.
            duration_s: session length, seconds (10–15 min recommended).
        """
        if duration_s <= 0:
            raise ConfigError(f"training duration {duration_s} s: must be positive")
        self._training = _Training(t_s, duration_s)
        self._stats.add("training_sessions")

    @property
    def paused(self) -> bool:
        """True while paused (until resumed or the pause expires)."""
        return self._paused

    @property
    def snoozed_until_s(self) -> float | None:
        """End of the current snooze (sample time), or None."""
        return self._snooze_until

    def statistics(self) -> dict[str, int]:
        """Counters: samples, episodes, alerts (total and per kind), deferred, suppressed, ..."""
        return dict(self._stats.counts)

    def seconds_until_alert(self) -> float | None:
        """Time until the slouch rule would fire if the posture stays as it is, seconds.

        None when no slouch is being counted, the episode was already alerted, or alerts are
        paused or snoozed.
        """
        ep = self._episode
        if ep is None or ep.handled or not self._in_zone or self._last_t is None:
            return None
        if self._paused or self._snooze_until is not None:
            return None
        t = self._last_t
        if self.config.mode == "iso11226" and self._training is None:
            maht = iso11226_holding_time_s(self._last_flexion, self.config)
            remaining = max(0.0, 1.0 - ep.dose / DOSE_UNIT)
            return remaining * maht if math.isfinite(maht) else None
        return max(0.0, ep.onset_s + self._delay_s() - t)

    # ------------------------------------------------------------------ stream

    def update(self, posture: PostureBlock) -> list[Alert]:
        """Consume one block; returns the alerts decided on its samples, in time order."""
        n = len(posture)
        if n == 0:
            return []
        t = posture.t_s.tolist()
        f = posture.flexion_deg.tolist()
        lateral = posture.lateral_deg
        if np.isnan(lateral).any():
            lateral = np.where(np.isnan(lateral), 0.0, lateral)
        self._lateral = lateral  # the fast path reads it too
        lat = lateral.tolist()
        act = posture.activity.tolist()
        out: list[Alert] = []
        i = 0
        # Small live blocks are cheaper to step than to scan with array operations.
        fast = self._fast and n >= _FAST_MIN_SAMPLES
        while i < n:
            if fast:
                j = self._skip(posture, i)
                if j > i:
                    i = j
                    continue
            self._step(t[i], f[i], lat[i], act[i], out)
            i += 1
        self._stats.add("samples", n)
        return out

    def _step(self, t: float, f: float, lat: float, act: int, out: list[Alert]) -> None:
        """Apply one sample: the reference semantics of every rule."""
        dt = 0.0 if self._last_t is None else min(t - self._last_t, _MAX_STEP_S)
        self._last_t = t
        self._expire(t)
        if not math.isnan(f):
            self._last_flexion = f
            self._slouch(t, f, act, dt, out)
            if self.config.stillness_s is not None:
                self._stillness(t, f, lat, act, out)
        if self.config.sitting_s is not None:
            self._sitting(t, act, out)

    def _expire(self, t: float) -> None:
        if self._paused:
            if self._pause_until is None:
                self._pause_until = t + self.config.pause_max_s
            elif t >= self._pause_until:
                self._paused = False
                self._pause_until = None
                logger.info("alert pause ended by itself at %.1f s", t)
        if self._snooze_until is not None and t >= self._snooze_until:
            self._snooze_until = None
        if self._silence_until is not None and t >= self._silence_until:
            self._silence_until = None
        tr = self._training
        if tr is not None and t >= tr.start_s + tr.duration_s:
            self._training = None

    def _delay_s(self) -> float:
        return self.config.training_delay_s if self._training is not None else self.config.delay_s

    # ------------------------------------------------------------------ rules

    def _slouch(self, t: float, f: float, act: int, dt: float, out: list[Alert]) -> None:
        cfg = self.config
        if act == WALKING:
            inside = False  # walking is not slouching, whatever the trunk angle
        elif self._in_zone:
            inside = f >= cfg.clear_below_deg
        else:
            inside = f > cfg.enter_above_deg
        self._in_zone = inside
        ep = self._episode
        if inside:
            if ep is None:
                ep = self._episode = _Episode(t, t, f, training=self._training is not None)
                self._stats.add("episodes")
                dt = 0.0
            ep.last_in_s = t
            ep.peak_deg = max(ep.peak_deg, f)
            if cfg.mode == "iso11226" and dt > 0.0:
                ep.dose += round(DOSE_UNIT * dt / iso11226_holding_time_s(f, cfg))
        elif ep is not None and t - ep.last_in_s >= cfg.grace_s:
            self._end_episode(ep, t)
            return
        if ep is None:
            return
        if ep.alerted_at_s is not None and t >= ep.alerted_at_s + cfg.ignored_after_s:
            self._ignored_verdict(ep, t)
        if not inside or ep.handled or act == TRANSITION:
            return
        if self._training is not None:
            if t - ep.onset_s >= cfg.training_delay_s:
                self._training_feedback(ep, t, f, out)
            return
        due = ep.dose >= DOSE_UNIT if cfg.mode == "iso11226" else t - ep.onset_s >= cfg.delay_s
        if due:
            self._fire_slouch(ep, t, f, out)

    def _end_episode(self, ep: _Episode, t: float) -> None:
        self._episode = None
        if ep.alerted_at_s is not None:
            self._consecutive_ignored = 0
            self._stats.add("corrected")
            logger.debug("slouch alert at %.1f s corrected by %.1f s", ep.alerted_at_s, t)

    def _ignored_verdict(self, ep: _Episode, t: float) -> None:
        cfg = self.config
        ep.alerted_at_s = None  # verdict given once
        self._stats.add("ignored")
        self._consecutive_ignored += 1
        self._ignored.append(t)
        while self._ignored and self._ignored[0] <= t - HOUR_S:
            self._ignored.popleft()
        if cfg.silence_after is not None and len(self._ignored) >= cfg.silence_after:
            self._silence_until = t + HOUR_S
            self._ignored.clear()
            self._stats.add("silenced")
            logger.info(
                "%d alerts ignored within an hour: silent until %.0f s",
                cfg.silence_after,
                t + HOUR_S,
            )

    def _fire_slouch(self, ep: _Episode, t: float, f: float, out: list[Alert]) -> None:
        cfg = self.config
        held = t - ep.onset_s
        if cfg.mode == "iso11226":
            kind = "iso11226"
            maht = iso11226_holding_time_s(ep.peak_deg, cfg)
            if ep.peak_deg > cfg.iso_max_deg:
                rule = (
                    f"beyond {cfg.iso_max_deg:g}° is not acceptable once held {cfg.iso_hold_s:g} s"
                )
            else:
                rule = (
                    f"ISO 11226 allows about {_dur(maht)} at {ep.peak_deg:.0f}° "
                    f"({_dur(cfg.iso_maht_min_s)} at {cfg.iso_min_deg:g}° to "
                    f"{_dur(cfg.iso_maht_max_s)} at {cfg.iso_max_deg:g}°)"
                )
            reason = (
                f"trunk flexed beyond {cfg.iso_min_deg:g}° for {_dur(held)} "
                f"(now {f:.0f}°, peak {ep.peak_deg:.0f}°): {rule}"
            )
        else:
            kind = "slouch"
            reason = (
                f"flexion above {cfg.tolerance_deg:g}° for {_dur(held)} "
                f"(now {f:.0f}°, peak {ep.peak_deg:.0f}°): slouch rule, delay {_dur(cfg.delay_s)}"
            )
        alert = self._gate(t, kind, ep.onset_s, ep.peak_deg, reason, ep)
        if alert is not None:
            ep.alerted_at_s = t
            out.append(alert)

    def _training_feedback(self, ep: _Episode, t: float, f: float, out: list[Alert]) -> None:
        cfg = self.config
        tr = self._training
        assert tr is not None
        if self._last_training_t is not None and t - self._last_training_t < cfg.training_min_gap_s:
            return  # wait: keeps counting while the slouch lasts
        ep.handled = True
        if self._paused or self._snooze_until is not None:
            self._stats.add("dropped_paused" if self._paused else "dropped_snoozed")
            return
        progress = min(1.0, max(0.0, (t - tr.start_s) / tr.duration_s))
        tr.credit += 1.0 - (1.0 - cfg.training_final_fraction) * progress
        if tr.credit < 1.0:
            self._stats.add("training_withheld")
            return
        tr.credit -= 1.0
        self._last_training_t = t
        reason = (
            f"training: flexion above {cfg.enter_above_deg:g}° for {_dur(t - ep.onset_s)} "
            f"(now {f:.0f}°); feedback fades to {cfg.training_final_fraction:.0%} by the "
            f"session's end"
        )
        out.append(Alert(t, "training", ep.onset_s, ep.peak_deg, reason, 1))
        self._stats.add("alerts")
        self._stats.add("alerts_training")

    def _stillness(self, t: float, f: float, lat: float, act: int, out: list[Alert]) -> None:
        cfg = self.config
        if act == WALKING:  # moving: the stillness clock restarts when walking stops
            self._still_ref = self._still_since = None
            self._still_deferred = False
            return
        ref = self._still_ref
        if (
            ref is None
            or abs(f - ref[0]) > cfg.stillness_change_deg
            or abs(lat - ref[1]) > cfg.stillness_change_deg
        ):
            self._still_ref = (f, lat)
            self._still_since = t
            self._still_deferred = False
            return
        since = self._still_since
        assert since is not None
        assert cfg.stillness_s is not None
        if t - since < cfg.stillness_s:
            return
        reason = (
            f"no posture change over {cfg.stillness_change_deg:g}° for {_dur(t - since)} "
            f"(around {ref[0]:.0f}°): stillness nudge, change position"
        )
        alert = self._gate(t, "stillness", since, math.nan, reason, None)
        self._still_deferred = self._deferring
        if not self._deferring:
            self._still_since = t  # next nudge after another full period
        if alert is not None:
            out.append(alert)

    def _sitting(self, t: float, act: int, out: list[Alert]) -> None:
        cfg = self.config
        if act == SITTING:
            self._not_sitting_since = None
            if self._sit_since is None:
                self._sit_since = t
        elif act in (STANDING, WALKING):
            if self._not_sitting_since is None:
                self._not_sitting_since = t
            if self._sit_since is not None and t - self._not_sitting_since >= cfg.sitting_break_s:
                self._sit_since = None
                self._sit_deferred = False
            return
        else:
            return  # transitions and unknown neither extend nor break a sitting bout
        since = self._sit_since
        assert cfg.sitting_s is not None
        if t - since < cfg.sitting_s:
            return
        reason = (
            f"sitting for {_dur(t - since)} without a break of {_dur(cfg.sitting_break_s)}: "
            f"stand up and move for 2–5 min"
        )
        alert = self._gate(t, "sitting", since, math.nan, reason, None)
        self._sit_deferred = self._deferring
        if not self._deferring:
            self._sit_since = t
        if alert is not None:
            out.append(alert)

    # ------------------------------------------------------------------ gates

    _deferring = False

    def _gate(
        self, t: float, kind: str, start: float, peak: float, reason: str, ep: _Episode | None
    ) -> Alert | None:
        """Pass a due alert through pause, snooze, silence and rate limits.

        A paused, snoozed or silenced alert is dropped (its episode counts as handled); a
        rate-limited one waits (``_deferring``) and is retried on the next samples while its
        rule still holds.
        """
        self._deferring = False
        dropped = None
        if self._paused:
            dropped = "paused"
        elif self._snooze_until is not None:
            dropped = "snoozed"
        elif self._silence_until is not None:
            dropped = "silenced"
        if dropped is not None:
            if ep is not None:
                ep.handled = True
            self._stats.add(f"dropped_{dropped}")
            return None
        if not self._rate_ok(t):
            self._deferring = True
            self._next_allowed_t = self._rate_free_at()
            if ep is not None and not ep.deferred:
                ep.deferred = True
                self._stats.add("deferred")
            return None
        severity = 1
        cfg = self.config
        if (
            kind in ("slouch", "iso11226")
            and cfg.escalate_after is not None
            and self._consecutive_ignored >= cfg.escalate_after
        ):
            severity = 2
            reason += f" (stronger: {self._consecutive_ignored} alerts in a row were not followed)"
            self._stats.add("escalated")
        if ep is not None:
            ep.handled = True
        self._fired.append(t)
        self._last_alert_t = t
        self._next_allowed_t = None
        self._stats.add("alerts")
        self._stats.add(f"alerts_{kind}")
        return Alert(t, kind, start, peak, reason, severity)

    def _rate_ok(self, t: float) -> bool:
        cfg = self.config
        if (
            cfg.min_gap_s is not None
            and self._last_alert_t is not None
            and t - self._last_alert_t < cfg.min_gap_s
        ):
            return False
        fired = self._fired
        while fired and fired[0] <= t - DAY_S:
            fired.popleft()
        if cfg.max_per_day is not None and len(fired) >= cfg.max_per_day:
            return False
        if cfg.max_per_hour is not None:
            in_hour = sum(1 for x in fired if x > t - HOUR_S)
            if in_hour >= cfg.max_per_hour:
                return False
        return True

    def _rate_free_at(self) -> float:
        """Earliest time the rate limits can let an alert through (they change only on alerts)."""
        cfg = self.config
        free = -math.inf
        if cfg.min_gap_s is not None and self._last_alert_t is not None:
            free = self._last_alert_t + cfg.min_gap_s
        fired = list(self._fired)
        if cfg.max_per_day is not None and len(fired) >= cfg.max_per_day:
            free = max(free, fired[len(fired) - cfg.max_per_day] + DAY_S)
        if cfg.max_per_hour is not None and len(fired) >= cfg.max_per_hour:
            free = max(free, fired[len(fired) - cfg.max_per_hour] + HOUR_S)
        return free

    def _skip(self, posture: PostureBlock, i: int) -> int:
        return fastpath.skip(self, posture, i)


def _dur(seconds: float) -> str:
    """Human duration: '45 s', '2 min 05 s', '1 h 02 min'."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
