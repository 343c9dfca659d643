"""Statistics a therapist reads: per session, per day, per week and over a date range (pure).

Input is the per-second posture summaries of sessions (host/recording/summary.py) plus their
alerts; output is :class:`PeriodStats` for every grouping. What the figures mean, and the
sources behind the classes, are in docs/store.md and notes/domain.md §1, §8:

* ISO 11226 trunk zones: < 0°, 0–20°, 20–60°, > 60° forward inclination;
* sustained-flexion episodes: flexion ≥ 20° (brief dips < 5 s bridged) for ≥ 60 s, with the
  ISO 11226 maximum acceptable holding time (linearised 4 min at 20° → 1 min at 60°) checked;
* EVA (Mathiassen & Winkel 1991): time in uninterrupted runs per angle class × duration class;
* sitting bouts (a break is ≥ 60 s not sitting), bout lengths < 20, 20–30, 30–60, > 60 min;
* posture shifts: the per-second flexion moves > 10° away from where it settled;
* alerts, and whether the wearer corrected within 10 s.

All angles are degrees, all durations seconds; days are calendar days in the session's own
UTC offset.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from host.recording.summary import ACTIVITY_NAMES, ZONE_NAMES, SecondSummaries

__all__ = [
    "AlertMark",
    "AlertOutcome",
    "Episode",
    "MetricsConfig",
    "PeriodStats",
    "RangeStats",
    "SessionData",
    "compute",
    "maht_s",
]

_SITTING = 1
_UPRIGHT_ZONES = (0, 1)  # reclined, upright: what "corrected" means for a flexion alert
_STILLNESS_KINDS = ("stillness", "sitting")
ISO_ZONES = ("<0", "0-20", "20-60", ">60")


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Definitions behind the statistics (defaults: notes/domain.md §1, §5, §8)."""

    sustained_threshold_deg: float = 20.0
    sustained_min_s: float = 60.0
    episode_grace_s: float = 5.0
    eva_angle_edges_deg: tuple[float, ...] = (20.0, 45.0, 60.0)
    eva_duration_edges_min: tuple[float, ...] = (1.0, 5.0, 10.0)
    bout_edges_min: tuple[float, ...] = (20.0, 30.0, 60.0)
    sitting_break_s: float = 60.0
    shift_deg: float = 10.0
    correction_window_s: float = 10.0
    min_valid_wear_h: float = 8.0


@dataclass(frozen=True, slots=True)
class AlertMark:
    """An alert as stored: session time ``t_s`` and its ``kind``."""

    t_s: float
    kind: str


@dataclass(frozen=True, slots=True)
class SessionData:
    """One session's input: its wall-clock start, per-second summaries and alerts."""

    session_id: int
    started_at: datetime
    summaries: SecondSummaries
    alerts: Sequence[AlertMark] = ()


@dataclass(frozen=True, slots=True)
class Episode:
    """A sustained-flexion episode (session time, s; angles, degrees)."""

    session_id: int
    start_s: float
    duration_s: float
    mean_deg: float
    peak_deg: float
    over_maht: bool
    day: str


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """An alert and whether the wearer corrected within the window (None: no data after it)."""

    session_id: int
    t_s: float
    kind: str
    corrected: bool | None
    time_to_correct_s: float | None
    day: str


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """Every figure for one period (a session, a day, a week or the whole range).

    Times are seconds unless the name says otherwise; ``*_deg`` degrees.
    """

    label: str
    span_s: float
    wear_s: float
    valid_s: float
    gaps: int
    gap_s: float
    activity_s: dict[str, float]
    zone_s: dict[str, float]
    iso_zone_s: dict[str, float]
    percentiles_deg: dict[str, float]
    sitting_percentiles_deg: dict[str, float]
    standing_percentiles_deg: dict[str, float]
    episodes: int
    episode_total_s: float
    episode_longest_s: float
    episodes_over_maht: int
    eva_s: list[list[float]]
    eva_counts: list[list[int]]
    sitting_bouts: int
    bout_hist: dict[str, int]
    longest_bout_s: float
    breaks: int
    breaks_per_sitting_h: float
    shifts: int
    shifts_per_15min: float
    alerts: int
    alerts_corrected: int
    alerts_by_kind: dict[str, int]
    low_wear: bool

    @property
    def valid_fraction(self) -> float:
        """Valid seconds / span (0 for an empty period)."""
        return self.valid_s / self.span_s if self.span_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class RangeStats:
    """Statistics over a set of sessions, grouped every way the report shows them."""

    overall: PeriodStats
    sessions: list[PeriodStats]
    days: list[PeriodStats]
    weeks: list[PeriodStats]
    episodes: list[Episode]
    alerts: list[AlertOutcome]
    eva_angle_labels: list[str]
    eva_duration_labels: list[str]
    config: MetricsConfig = field(default_factory=MetricsConfig)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary (NaN becomes None)."""
        return _clean(asdict(self))  # type: ignore[return-value]


def _clean(x: object) -> object:
    if isinstance(x, float):
        return None if math.isnan(x) else round(x, 3)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def maht_s(angle_deg: float) -> float:
    """ISO 11226 maximum acceptable holding time, linearised: 240 s at 20° → 60 s at 60°.

    Below 20° unlimited (inf); above 60° not acceptable (0).
    """
    if angle_deg < 20.0:
        return math.inf
    if angle_deg > 60.0:
        return 0.0
    return 240.0 - (angle_deg - 20.0) * (180.0 / 40.0)


# ---------------------------------------------------------------------- per-session analysis


def _runs(
    mask: npt.NDArray[np.bool_], sec: npt.NDArray[np.int64], bridge_s: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start and end (exclusive) seconds of runs where ``mask`` holds, bridging holes ≤ bridge_s."""
    s = sec[mask]
    if s.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cut = np.flatnonzero(np.diff(s) > 1 + bridge_s)
    starts = np.concatenate(([s[0]], s[cut + 1]))
    ends = np.concatenate((s[cut], [s[-1]])) + 1
    return starts, ends


def _shifts(flex: npt.NDArray[np.float32], threshold_deg: float) -> npt.NDArray[np.intp]:
    """Indices where flexion moved > threshold from the level it last settled at (NaN skipped).

    Searches window by window with numpy: shifts are rare (a few per minute at most), so the
    Python loop runs once per shift, not once per second.
    """
    out: list[int] = []
    ok = np.flatnonzero(np.isfinite(flex))
    if ok.size == 0:
        return np.zeros(0, np.intp)
    anchor = float(flex[ok[0]])
    pos, n, window = int(ok[0]) + 1, len(flex), 256
    with np.errstate(invalid="ignore"):
        while pos < n:
            hit = np.flatnonzero(np.abs(flex[pos : pos + window] - anchor) > threshold_deg)
            if hit.size == 0:
                pos += window
                window = min(window * 2, 65536)
                continue
            j = pos + int(hit[0])
            out.append(j)
            anchor = float(flex[j])
            pos, window = j + 1, 256
    return np.asarray(out, np.intp)


@dataclass(slots=True)
class _Session:
    data: SessionData
    day: npt.NDArray[np.int64]  # date ordinal per second
    episodes: list[Episode]
    eva: list[tuple[int, int, float, int]]  # angle class, duration class, seconds, day ordinal
    bouts: list[tuple[float, int]]  # duration s, day ordinal
    breaks: list[int]  # day ordinal of each break
    shifts_day: npt.NDArray[np.int64]
    alerts: list[AlertOutcome]


def _day_of(data: SessionData, sec: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    offset = data.started_at.utcoffset() or timedelta(0)
    local = data.started_at.timestamp() + offset.total_seconds() + sec
    epoch_ordinal = date(1970, 1, 1).toordinal()
    out: npt.NDArray[np.int64] = np.floor(local / 86400.0).astype(np.int64) + epoch_ordinal
    return out


def _label(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _analyse(data: SessionData, cfg: MetricsConfig) -> _Session:
    s = data.summaries
    sec = s.sec.astype(np.int64)
    day = _day_of(data, sec)
    flex = s.flexion_deg
    valid = np.isfinite(flex)
    # sustained flexion episodes
    hi = valid & (flex >= cfg.sustained_threshold_deg)
    starts, ends = _runs(hi, sec, cfg.episode_grace_s)
    episodes = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a < cfg.sustained_min_s:
            continue
        i, j = np.searchsorted(sec, [a, b])
        seg = hi[i:j]
        mean = float(np.mean(flex[i:j][seg]))
        peak = float(np.nanmax(s.flexion_max_deg[i:j][seg]))
        episodes.append(
            Episode(
                data.session_id,
                float(a),
                float(b - a),
                mean,
                peak,
                (b - a) > maht_s(mean),
                _label(int(day[i])),
            )
        )
    # EVA: uninterrupted runs inside each angle class
    eva: list[tuple[int, int, float, int]] = []
    edges = [*cfg.eva_angle_edges_deg, math.inf]
    dur_edges = np.asarray(cfg.eva_duration_edges_min) * 60.0
    for k in range(len(edges) - 1):
        in_class = valid & (flex >= edges[k]) & (flex < edges[k + 1])
        a_s, b_s = _runs(in_class, sec, 0.0)
        durations = (b_s - a_s).astype(np.float64)
        classes = np.searchsorted(dur_edges, durations, side="right")
        days = day[np.searchsorted(sec, a_s)] if a_s.size else a_s
        eva.extend(
            zip(
                [k] * len(durations),
                classes.tolist(),
                durations.tolist(),
                days.tolist(),
                strict=True,
            )
        )
    # sitting bouts and breaks
    sitting = s.activity == _SITTING
    b_a, b_b = _runs(sitting, sec, cfg.sitting_break_s - 1)
    bout_days = day[np.searchsorted(sec, b_a)] if b_a.size else b_a
    bouts = list(zip((b_b - b_a).astype(float).tolist(), bout_days.tolist(), strict=True))
    breaks = bout_days[1:].tolist()
    shifts_day = day[_shifts(np.where(valid, flex, np.nan).astype(np.float32), cfg.shift_deg)]
    alerts = [_outcome(data, sec, day, a, cfg) for a in data.alerts]
    return _Session(data, day, episodes, eva, bouts, breaks, shifts_day, alerts)


def _outcome(
    data: SessionData,
    sec: npt.NDArray[np.int64],
    day: npt.NDArray[np.int64],
    alert: AlertMark,
    cfg: MetricsConfig,
) -> AlertOutcome:
    s = data.summaries
    i, j = np.searchsorted(sec, [alert.t_s, alert.t_s + cfg.correction_window_s], side="right")
    k = min(max(int(np.searchsorted(sec, alert.t_s)), 0), max(len(sec) - 1, 0))
    label = _label(int(day[k])) if len(sec) else ""
    if i >= j:
        return AlertOutcome(data.session_id, alert.t_s, alert.kind, None, None, label)
    if alert.kind in _STILLNESS_KINDS:
        base = s.flexion_deg[max(i - 1, 0)]
        ok = (s.activity[i:j] != _SITTING) | (np.abs(s.flexion_deg[i:j] - base) > cfg.shift_deg)
    else:
        ok = np.isin(s.zone[i:j], _UPRIGHT_ZONES)
    hit = np.flatnonzero(ok)
    if hit.size == 0:
        return AlertOutcome(data.session_id, alert.t_s, alert.kind, False, None, label)
    # the first second whose summary shows the correction started it
    delay_s = max(float(sec[i + hit[0]]) - alert.t_s, 0.0)
    return AlertOutcome(data.session_id, alert.t_s, alert.kind, True, delay_s, label)


# ---------------------------------------------------------------------- aggregation


def _percentiles(x: npt.NDArray[np.float32]) -> dict[str, float]:
    if x.size == 0:
        return {"P10": math.nan, "P50": math.nan, "P90": math.nan}
    p = np.percentile(x.astype(np.float64), [10, 50, 90])
    return {"P10": float(p[0]), "P50": float(p[1]), "P90": float(p[2])}


def _period(
    label: str,
    parts: list[tuple[_Session, npt.NDArray[np.bool_]]],
    days: set[int] | None,
    cfg: MetricsConfig,
) -> PeriodStats:
    """Aggregate the seconds selected by each mask, and the run-type events of ``days``."""
    span = wear = valid_s = gap_s = 0.0
    gaps = 0
    flexes, sit_flex, stand_flex, zones, acts = [], [], [], [], []
    for sess, mask in parts:
        s = sess.data.summaries
        sec = s.sec[mask]
        if sec.size == 0:
            continue
        span += float(sec[-1] - sec[0] + 1)
        wear += float(np.count_nonzero(s.n_samples[mask] > 0))
        holes = np.diff(sec) - 1
        gaps += int(np.count_nonzero(holes > 0))
        gap_s += float(holes[holes > 0].sum())
        f = s.flexion_deg[mask]
        ok = np.isfinite(f)
        valid_s += float(np.count_nonzero(ok))
        a = s.activity[mask]
        flexes.append(f[ok])
        sit_flex.append(f[ok & (a == _SITTING)])
        stand_flex.append(f[ok & (a == 2)])
        zones.append(s.zone[mask])
        acts.append(a)
    cat = np.concatenate
    flex = cat(flexes) if flexes else np.zeros(0, np.float32)
    zone = cat(zones) if zones else np.zeros(0, np.int8)
    act = cat(acts) if acts else np.zeros(0, np.int8)
    sessions = [p[0] for p in parts]

    def in_days(d: int) -> bool:
        return days is None or d in days

    @functools.cache
    def day_ord(label: str) -> int:
        return date.fromisoformat(label).toordinal() if label else -1

    episodes = [e for x in sessions for e in x.episodes if in_days(day_ord(e.day))]
    n_a, n_d = len(cfg.eva_angle_edges_deg), len(cfg.eva_duration_edges_min) + 1
    eva_s = [[0.0] * n_d for _ in range(n_a)]
    eva_n = [[0] * n_d for _ in range(n_a)]
    for x in sessions:
        for k, c, d, dy in x.eva:
            if in_days(dy):
                eva_s[k][c] += d
                eva_n[k][c] += 1
    bouts = [b for x in sessions for b, dy in x.bouts if in_days(dy)]
    breaks = sum(1 for x in sessions for dy in x.breaks if in_days(dy))
    day_list = None if days is None else sorted(days)
    shifts = sum(
        len(x.shifts_day) if day_list is None else int(np.isin(x.shifts_day, day_list).sum())
        for x in sessions
    )
    alerts = [a for x in sessions for a in x.alerts if in_days(day_ord(a.day))]
    bout_edges = [e * 60.0 for e in cfg.bout_edges_min]
    hist_labels = _bin_labels(cfg.bout_edges_min, "min")
    hist = dict.fromkeys(hist_labels, 0)
    for b in bouts:
        hist[hist_labels[int(np.searchsorted(bout_edges, b, side="right"))]] += 1
    sitting_s = float(np.count_nonzero(act == _SITTING))
    iso = np.searchsorted([0.0, 20.0, 60.0], flex, side="right")
    by_kind: dict[str, int] = {}
    for outcome in alerts:
        by_kind[outcome.kind] = by_kind.get(outcome.kind, 0) + 1
    return PeriodStats(
        label=label,
        span_s=span,
        wear_s=wear,
        valid_s=valid_s,
        gaps=gaps,
        gap_s=gap_s,
        activity_s={n: float(np.count_nonzero(act == v)) for v, n in ACTIVITY_NAMES.items()},
        zone_s={n: float(np.count_nonzero(zone == v)) for v, n in ZONE_NAMES.items()},
        iso_zone_s={n: float(np.count_nonzero(iso == i)) for i, n in enumerate(ISO_ZONES)},
        percentiles_deg=_percentiles(flex),
        sitting_percentiles_deg=_percentiles(cat(sit_flex) if sit_flex else flex[:0]),
        standing_percentiles_deg=_percentiles(cat(stand_flex) if stand_flex else flex[:0]),
        episodes=len(episodes),
        episode_total_s=float(sum(e.duration_s for e in episodes)),
        episode_longest_s=float(max((e.duration_s for e in episodes), default=0.0)),
        episodes_over_maht=sum(e.over_maht for e in episodes),
        eva_s=eva_s,
        eva_counts=eva_n,
        sitting_bouts=len(bouts),
        bout_hist=hist,
        longest_bout_s=float(max(bouts, default=0.0)),
        breaks=breaks,
        breaks_per_sitting_h=breaks / (sitting_s / 3600.0) if sitting_s > 0 else 0.0,
        shifts=shifts,
        shifts_per_15min=shifts / (valid_s / 900.0) if valid_s > 0 else 0.0,
        alerts=len(alerts),
        alerts_corrected=sum(1 for a in alerts if a.corrected),
        alerts_by_kind=by_kind,
        low_wear=valid_s < cfg.min_valid_wear_h * 3600.0,
    )


def _bin_labels(edges: Iterable[float], unit: str) -> list[str]:
    e = [f"{x:g}" for x in edges]
    return (
        [f"<{e[0]} {unit}"]
        + [f"{a}-{b} {unit}" for a, b in itertools.pairwise(e)]
        + [f">{e[-1]} {unit}"]
    )


def compute(sessions: Sequence[SessionData], config: MetricsConfig | None = None) -> RangeStats:
    """All statistics over ``sessions`` (any order; empty is allowed).

    Args:
        sessions: per-second summaries and alerts of each session.
        config: definitions; defaults follow notes/domain.md.
    """
    cfg = config or MetricsConfig()
    analysed = [_analyse(s, cfg) for s in sorted(sessions, key=lambda s: s.started_at)]
    every = [(x, np.ones(len(x.data.summaries), bool)) for x in analysed]
    per_session = [_period(f"session {x.data.session_id}", [(x, m)], None, cfg) for x, m in every]
    all_days = sorted({int(d) for x in analysed for d in np.unique(x.day)})
    # only the sessions that touch a day take part in it (a month is 30 sessions, not 900 masks)
    touches = [set(np.unique(x.day).tolist()) for x in analysed]
    days = [
        _period(
            _label(d),
            [(x, x.day == d) for x, t in zip(analysed, touches, strict=True) if d in t],
            {d},
            cfg,
        )
        for d in all_days
    ]
    weeks: dict[tuple[int, int], list[int]] = {}
    for d in all_days:
        iso = date.fromordinal(d).isocalendar()
        weeks.setdefault((iso.year, iso.week), []).append(d)
    week_stats = [
        _period(
            f"{y}-W{w:02d}",
            [
                (x, np.isin(x.day, ds))
                for x, t in zip(analysed, touches, strict=True)
                if t & set(ds)
            ],
            set(ds),
            cfg,
        )
        for (y, w), ds in sorted(weeks.items())
    ]
    angle_labels = [
        f"{a:g}-{b:g}°"
        for a, b in zip(cfg.eva_angle_edges_deg, cfg.eva_angle_edges_deg[1:], strict=False)
    ]
    angle_labels.append(f">{cfg.eva_angle_edges_deg[-1]:g}°")
    return RangeStats(
        overall=_period("all", every, None, cfg),
        sessions=per_session,
        days=days,
        weeks=week_stats,
        episodes=[e for x in analysed for e in x.episodes],
        alerts=[a for x in analysed for a in x.alerts],
        eva_angle_labels=angle_labels,
        eva_duration_labels=_bin_labels(cfg.eva_duration_edges_min, "min"),
        config=cfg,
    )
