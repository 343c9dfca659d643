"""Statistics as plain text for the terminal (``posture stats``)."""

from __future__ import annotations

import math

from host.reports.metrics import PeriodStats, RangeStats

__all__ = ["format_duration", "format_stats"]


def format_duration(seconds: float) -> str:
    """``3725`` → ``1 h 02 min``; under an hour ``12 min 05 s``."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:5.1f} %" if whole > 0 else "    - "


def _deg(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}°"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


_LABEL = 17  # width of the row labels ("wear time        ")


def _period_lines(p: PeriodStats, stats: RangeStats) -> list[str]:
    lines = [
        f"wear time        {format_duration(p.wear_s)} recorded over "
        f"{format_duration(p.span_s)} (valid posture {format_duration(p.valid_s)}, "
        f"{_pct(p.valid_s, p.wear_s).strip()} of the recorded time; "
        f"{_plural(p.gaps, 'gap')}, {format_duration(p.gap_s)} missing)",
    ]
    act = p.activity_s
    lines.append(
        "activity         "
        + ", ".join(
            f"{k} {format_duration(act[k])}" for k in ("sitting", "standing", "walking") if k in act
        )
    )
    lines.append(
        "posture zones    "
        + ", ".join(
            f"{k} {_pct(v, p.valid_s).strip()}" for k, v in p.zone_s.items() if k != "unknown"
        )
    )
    lines.append(
        "ISO 11226 zones  "
        + ", ".join(f"{k}° {_pct(v, p.valid_s).strip()}" for k, v in p.iso_zone_s.items())
    )
    q = p.percentiles_deg
    lines.append(
        f"flexion          P10 {_deg(q['P10'])}  P50 {_deg(q['P50'])}  P90 {_deg(q['P90'])}"
    )
    sustained = f"sustained ≥{stats.config.sustained_threshold_deg:g}°".ljust(_LABEL)
    lines.append(
        f"{sustained}{_plural(p.episodes, 'episode')}, "
        f"total {format_duration(p.episode_total_s)}, longest "
        f"{format_duration(p.episode_longest_s)}, {p.episodes_over_maht} over ISO holding time"
    )
    lines.append(
        f"sitting bouts    {p.sitting_bouts} ("
        + ", ".join(f"{k}: {v}" for k, v in p.bout_hist.items())
        + f"), longest {format_duration(p.longest_bout_s)}, "
        f"{p.breaks_per_sitting_h:.1f} breaks per sitting hour"
    )
    lines.append(f"posture shifts   {p.shifts} ({p.shifts_per_15min:.1f} per 15 min)")
    lines.append(
        f"alerts           {p.alerts} fired, {p.alerts_corrected} corrected within "
        f"{stats.config.correction_window_s:g} s"
        + (
            " (" + ", ".join(f"{k} {v}" for k, v in sorted(p.alerts_by_kind.items())) + ")"
            if p.alerts_by_kind
            else ""
        )
    )
    return lines


def _eva_lines(p: PeriodStats, stats: RangeStats) -> list[str]:
    width = max(len(x) for x in stats.eva_duration_labels) + 2
    head = "EVA (minutes)    " + "".join(x.rjust(width) for x in stats.eva_duration_labels)
    rows = [head]
    for label, row in zip(stats.eva_angle_labels, p.eva_s, strict=True):
        rows.append(f"  {label:<15}" + "".join(f"{v / 60:.1f}".rjust(width) for v in row))
    return rows


def format_stats(stats: RangeStats) -> str:
    """The overall figures, the EVA table and one line per day."""
    o = stats.overall
    out = [f"== {_plural(len(stats.sessions), 'session')}, {_plural(len(stats.days), 'day')} =="]
    out += _period_lines(o, stats)
    out += _eva_lines(o, stats)
    if stats.days:
        lw = max(len(d.label) for d in stats.days)
        out.append("")
        out.append(
            f"{'day':{lw}}  {'wear':>10}  {'valid':>7}  {'sitting':>7}  {'P50':>6}  "
            f"{'>20°':>7}  {'episodes':>8}  {'alerts':>6}"
        )
        for d in stats.days:
            flag = "  < 8 h valid" if d.low_wear else ""
            out.append(
                f"{d.label:{lw}}  {format_duration(d.wear_s):>10}  {_pct(d.valid_s, d.span_s)}  "
                f"{_pct(d.activity_s.get('sitting', 0.0), d.wear_s)}  "
                f"{_deg(d.percentiles_deg['P50']):>6}  "
                f"{_pct(d.iso_zone_s['20-60'] + d.iso_zone_s['>60'], d.valid_s)}  "
                f"{d.episodes:>8}  {d.alerts:>6}{flag}"
            )
    if len(stats.weeks) > 1:
        out.append("")
        for w in stats.weeks:
            out.append(
                f"{w.label}  wear {format_duration(w.wear_s)}, P50 {_deg(w.percentiles_deg['P50'])}"
                f", > 20° {_pct(w.iso_zone_s['20-60'] + w.iso_zone_s['>60'], w.valid_s).strip()}"
                f", {w.episodes} episodes, {w.alerts} alerts"
            )
    return "\n".join(out)
