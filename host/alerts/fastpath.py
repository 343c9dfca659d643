"""Fast path of :class:`~host.alerts.policy.AlertPolicy` (pure).

Most samples change nothing but timestamps: no episode, posture steady, timers far from due.
:func:`skip` finds such spans with vectorised tests on the block and applies their bulk effect,
so the per-sample rules run only where something can happen (an 8-hour day at 100 Hz in well
under a second). It must be equivalent to stepping every sample: the unit tests compare both.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from host.posture import Activity, PostureBlock

if TYPE_CHECKING:
    from host.alerts.policy import AlertPolicy

__all__ = ["skip"]

WALKING = int(Activity.WALKING)
TRANSITION = int(Activity.TRANSITION)
SITTING = int(Activity.SITTING)
STANDING = int(Activity.STANDING)
UNKNOWN = int(Activity.UNKNOWN)
_EPS_S = 1e-6


def skip(policy: AlertPolicy, posture: PostureBlock, i: int) -> int:
    """End of the span from ``i`` in which no sample can change anything but timestamps.

    Applies that span's bulk effects (last time, peak, last in-zone time) and returns its
    end; returns ``i`` when sample ``i`` needs the per-sample path. Equivalent to stepping
    every sample (tests compare both).
    """
    slouch_case = _slouch_case(policy)
    if slouch_case is None or (policy._paused and policy._pause_until is None):
        return i
    t = posture.t_s
    n = t.shape[0]
    deadline = min(
        (
            d
            for d in (
                policy._pause_until if policy._paused else None,
                policy._snooze_until,
                policy._silence_until,
                None
                if policy._training is None
                else policy._training.start_s + policy._training.duration_s,
                _slouch_deadline(policy),
                policy._next_allowed_t,
            )
            if d is not None
        ),
        default=math.inf,
    )
    # Samples at or just before a deadline take the per-sample path, so rounding of "t - since"
    # against "since + wait" can never let the fast path skip a sample the rules would act on.
    limit = n if deadline == math.inf else int(np.searchsorted(t, deadline - _EPS_S, side="left"))
    if limit <= i:
        return i
    j = i
    width = 64
    while j < limit:
        end = min(limit, j + width)
        idle = _idle(policy, posture, j, end, slouch_case)
        bad = np.flatnonzero(~idle)
        if bad.size:
            j += int(bad[0])
            break
        j = end
        width *= 4
    if j > i:
        _bulk(policy, posture, i, j, slouch_case)
    return j


def _slouch_case(policy: AlertPolicy) -> str | None:
    ep = policy._episode
    if ep is None:
        return None if policy._in_zone else "out"
    if not policy._in_zone:
        return "returning"  # a return inside the grace time: the episode may still resume
    if ep.handled:
        return "held"
    if policy.config.mode == "threshold" and policy._training is None:
        return "counting"
    return None


def _slouch_deadline(policy: AlertPolicy) -> float | None:
    ep = policy._episode
    if ep is None:
        return None
    if not policy._in_zone:
        grace_end = ep.last_in_s + policy.config.grace_s
        if ep.alerted_at_s is not None:
            return min(grace_end, ep.alerted_at_s + policy.config.ignored_after_s)
        return grace_end
    if ep.alerted_at_s is not None:
        return ep.alerted_at_s + policy.config.ignored_after_s
    if not ep.handled:
        if ep.deferred and policy._next_allowed_t is not None:
            return None  # due already; waits for the rate limits (next_allowed_t)
        return ep.onset_s + policy.config.delay_s
    return None


def _idle(
    policy: AlertPolicy, p: PostureBlock, a: int, b: int, slouch_case: str
) -> npt.NDArray[np.bool_]:
    cfg = policy.config
    t = p.t_s[a:b]
    f = p.flexion_deg[a:b]
    act = p.activity[a:b]
    nan = np.isnan(f)
    walking = act == WALKING
    if slouch_case in ("out", "returning"):
        idle: npt.NDArray[np.bool_] = nan | walking | (f <= cfg.enter_above_deg)
    else:
        idle = nan | (~walking & (f >= cfg.clear_below_deg))
    if cfg.stillness_s is not None:
        ref = policy._still_ref
        if ref is None or policy._still_since is None:
            idle &= nan | walking  # walking keeps the clock stopped; anything else starts it
        else:
            lat = policy._lateral[a:b]
            calm = (
                ~walking
                & (np.abs(f - ref[0]) <= cfg.stillness_change_deg)
                & (np.abs(lat - ref[1]) <= cfg.stillness_change_deg)
            )
            if not (policy._still_deferred and policy._next_allowed_t is not None):
                calm &= t - policy._still_since < cfg.stillness_s
            idle &= nan | calm
    if cfg.sitting_s is not None:
        neutral = (act == TRANSITION) | (act == UNKNOWN)
        if policy._sit_since is not None and policy._not_sitting_since is None:
            sitting_ok = act == SITTING
            if not (policy._sit_deferred and policy._next_allowed_t is not None):
                sitting_ok &= t - policy._sit_since < cfg.sitting_s
        else:
            sitting_ok = np.zeros(b - a, dtype=bool)
        if policy._not_sitting_since is not None:
            up_ok = (act == STANDING) | walking
            if policy._sit_since is not None:
                up_ok &= t - policy._not_sitting_since < cfg.sitting_break_s
        else:
            up_ok = np.zeros(b - a, dtype=bool)
        idle &= neutral | sitting_ok | up_ok
    return idle


def _bulk(policy: AlertPolicy, p: PostureBlock, a: int, b: int, slouch_case: str) -> None:
    policy._last_t = float(p.t_s[b - 1])
    f = p.flexion_deg[a:b]
    finite = np.flatnonzero(~np.isnan(f))
    if finite.size == 0:
        return
    policy._last_flexion = float(f[finite[-1]])
    ep = policy._episode
    if ep is not None and slouch_case in ("held", "counting"):
        ep.last_in_s = float(p.t_s[a + finite[-1]])
        ep.peak_deg = max(ep.peak_deg, float(np.max(f[finite])))
