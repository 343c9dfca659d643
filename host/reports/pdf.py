"""The therapist report: HTML laid out by QTextDocument, printed to A4 PDF with QPdfWriter.

Contents follow notes/domain.md §8: a data-quality header (pseudonym, period, placement, device
and calibration, wear and gaps, days under 8 h), activity, posture and ISO 11226 zones,
percentiles, sustained episodes with the EVA table, sitting bouts, posture shifts, alerts and
their correction, per-day figures, and the figures (flexion timeline with zone bands,
time-in-zone bars, daily trend). Pseudonymised: study ID only, no Bluetooth address.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
from PyQt6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from host.recording.store import SessionInfo
from host.reports.load import public_device_info, redact_device
from host.reports.metrics import RangeStats, SessionData
from host.reports.plots import ensure_app, plot_daily_trend, plot_timeline, plot_zone_bars
from host.reports.text import format_duration

__all__ = ["ReportInput", "build_html", "render_figures", "write_html", "write_pdf"]

DISCLAIMER = (
    "Wellness and self-management information, not a diagnosis or a medical assessment. "
    "Angles are relative to the wearer's own calibrated upright posture and depend on sensor "
    "placement; do not compare them across placements."
)
_FIGURES = ("timeline", "zones", "trend")
_MAX_EPISODE_ROWS = 15
_MAX_ALERT_ROWS = 20


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What a report is made of."""

    study_id: str
    sessions: list[SessionInfo]
    data: list[SessionData]
    stats: RangeStats
    generated_at: datetime
    calibrations: dict[int, dict[str, object]] = field(default_factory=dict)
    """Per session id, the calibration used (e.g. a live session's first calibration event),
    for sessions whose stored start calibration is empty."""
    exercise_html: str = ""
    """The home-exercise section (host.exercise.records.report_html), "" for none."""

    @property
    def has_posture(self) -> bool:
        """Whether any session has posture data (exercise and ROM sessions have none)."""
        return any(len(d.summaries.sec) for d in self.data)


def render_figures(
    report: ReportInput, progress: Callable[[str], None] | None = None
) -> dict[str, QImage]:
    """The report's figures as images (needs Qt; created offscreen without a display)."""
    ensure_app()
    figures: dict[str, QImage] = {}
    if not report.has_posture:  # nothing to plot: no empty charts
        return figures
    for name in _FIGURES:
        if progress is not None:
            progress(f"figure: {name}")
        if name == "timeline":
            figures[name] = plot_timeline(report.data)
        elif name == "zones":
            figures[name] = plot_zone_bars(report.stats)
        else:
            figures[name] = plot_daily_trend(report.stats)
    return figures


def _e(text: object) -> str:
    return html.escape(str(text))


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole > 0 else "–"


def _deg(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.1f}°"


def _table(rows: list[list[str]], header: list[str] | None = None, *, compact: bool = False) -> str:
    """An HTML table; ``compact`` uses a smaller font and keeps cells on one line."""
    style = ' style="font-size: 7.5pt; white-space: nowrap"' if compact else ""
    out = [f'<table border="0.5" cellspacing="0" cellpadding="3" width="100%"{style}>']
    if header:
        out.append("<tr>" + "".join(f'<th bgcolor="#eeeeee">{h}</th>' for h in header) + "</tr>")
    cell = '<td style="white-space: nowrap">' if compact else "<td>"
    for r in rows:
        out.append("<tr>" + "".join(f"{cell}{c}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _clock(started_at: datetime, t_s: float) -> str:
    return (started_at + timedelta(seconds=t_s)).strftime("%Y-%m-%d %H:%M")


def _header(r: ReportInput) -> str:
    s, o = r.stats, r.stats.overall
    first = min(x.started_at for x in r.sessions)
    last = max(x.started_at + timedelta(seconds=x.duration_s) for x in r.sessions)
    devices = sorted({redact_device(x.device) for x in r.sessions})
    placements = sorted({x.placement for x in r.sessions})
    cals = []
    for x in r.sessions:
        c = x.calibration or r.calibrations.get(x.id) or {}
        bend = c.get("forward_bend_deg")
        bend_text = f", forward bend {float(str(bend)):.0f}°" if bend is not None else ""
        made = str(c.get("created") or "")[:10]
        cals.append(f"{c.get('method', 'none')}{bend_text}" + (f" ({made})" if made else ""))
    info = [public_device_info(x.device_info) for x in r.sessions if x.device_info]
    models = sorted({str(i.get("model") or i.get("name") or "") for i in info} - {""})
    low = [d.label for d in s.days if d.low_wear]
    rows = [
        ["Wearer (pseudonym)", _e(r.study_id)],
        [
            "Period",
            f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} "
            f"({_plural(len(r.sessions), 'session')}, {_plural(len(s.days), 'day')})",
        ],
        ["Sensor placement", _e(", ".join(placements))],
        ["Device", _e(", ".join(devices + models))],
        ["Calibration", _e("; ".join(sorted(set(cals))))],
        [
            "Wear time",
            f"{format_duration(o.wear_s)} (valid posture data "
            f"{format_duration(o.valid_s)}, {_pct(o.valid_s, o.span_s)} of recorded span)",
        ],
        ["Data gaps", f"{_plural(o.gaps, 'gap')}, {format_duration(o.gap_s)} missing"],
        ["Days under 8 h valid wear", _e(", ".join(low) if low else "none")],
    ]
    return "<h2>Data quality</h2>" + _table(rows)


def _exercise_only_header(r: ReportInput) -> str:
    """The header of a report whose sessions are all exercise or ROM sessions."""
    first = min(x.started_at for x in r.sessions)
    last = max(x.started_at + timedelta(seconds=x.duration_s) for x in r.sessions)
    devices = sorted({redact_device(x.device) for x in r.sessions})
    kinds = sorted({x.source.partition(":")[0] for x in r.sessions})
    rows = [
        ["Wearer (pseudonym)", _e(r.study_id)],
        [
            "Period",
            f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} "
            f"({_plural(len(r.sessions), 'session')}: {_e(', '.join(kinds))})",
        ],
        ["Device", _e(", ".join(devices))],
        ["Posture data", "none: exercise and range-of-motion sessions only"],
    ]
    return "<h2>Sessions</h2>" + _table(rows)


def _key_figures(r: ReportInput) -> str:
    s, o = r.stats, r.stats.overall
    a = o.activity_s
    q, qs, qt = o.percentiles_deg, o.sitting_percentiles_deg, o.standing_percentiles_deg
    corrected = _pct(o.alerts_corrected, o.alerts) if o.alerts else "–"
    rows = [
        [
            "Sitting / standing / walking",
            f"{format_duration(a.get('sitting', 0))} / {format_duration(a.get('standing', 0))} / "
            f"{format_duration(a.get('walking', 0))}",
        ],
        [
            "Flexion P10 / P50 / P90 (all)",
            f"{_deg(q['P10'])} / {_deg(q['P50'])} / {_deg(q['P90'])}",
        ],
        [
            "Flexion P10 / P50 / P90 (sitting)",
            f"{_deg(qs['P10'])} / {_deg(qs['P50'])} / {_deg(qs['P90'])}",
        ],
        [
            "Flexion P10 / P50 / P90 (standing)",
            f"{_deg(qt['P10'])} / {_deg(qt['P50'])} / {_deg(qt['P90'])}",
        ],
        [
            "ISO 11226 zones (&lt;0° / 0–20° / 20–60° / &gt;60°)",
            " / ".join(_pct(v, o.valid_s) for v in o.iso_zone_s.values()),
        ],
        [
            f"Sustained flexion ≥ {s.config.sustained_threshold_deg:g}° "
            f"(≥ {s.config.sustained_min_s / 60:g} min)",
            f"{o.episodes} episodes, total {format_duration(o.episode_total_s)}, longest "
            f"{format_duration(o.episode_longest_s)}; {o.episodes_over_maht} beyond the ISO 11226 "
            "holding time",
        ],
        [
            "Sitting bouts",
            f"{o.sitting_bouts}, longest {format_duration(o.longest_bout_s)}, "
            f"{o.breaks_per_sitting_h:.1f} breaks per sitting hour",
        ],
        ["Sitting bout lengths", _e(", ".join(f"{k}: {v}" for k, v in o.bout_hist.items()))],
        [
            f"Posture shifts > {s.config.shift_deg:g}°",
            f"{o.shifts} ({o.shifts_per_15min:.1f} per 15 min; office reference ≈ 9)",
        ],
        [
            "Alerts",
            f"{o.alerts} fired, {corrected} corrected within {s.config.correction_window_s:g} s",
        ],
    ]
    return "<h2>Summary</h2>" + _table(rows)


def _eva(r: ReportInput) -> str:
    s, o = r.stats, r.stats.overall
    rows = [
        [_e(label)] + [f"{v / 60:.1f} min ({n})" for v, n in zip(row, counts, strict=True)]
        for label, row, counts in zip(s.eva_angle_labels, o.eva_s, o.eva_counts, strict=True)
    ]
    return "<h3>Exposure variation (EVA): time in uninterrupted periods (count)</h3>" + _table(
        rows, ["flexion", *map(_e, s.eva_duration_labels)]
    )


def _episodes(r: ReportInput) -> str:
    starts = {x.id: x.started_at for x in r.sessions}
    top = sorted(r.stats.episodes, key=lambda e: -e.duration_s)[:_MAX_EPISODE_ROWS]
    rows = [
        [
            _clock(starts[e.session_id], e.start_s),
            format_duration(e.duration_s),
            _deg(e.mean_deg),
            _deg(e.peak_deg),
            "yes" if e.over_maht else "no",
        ]
        for e in sorted(top, key=lambda e: (starts[e.session_id], e.start_s))
    ]
    if not rows:
        return "<h3>Sustained-flexion episodes</h3><p>None.</p>"
    return (
        f"<h3>Sustained-flexion episodes (longest {len(rows)} of {len(r.stats.episodes)})</h3>"
        + _table(rows, ["start", "duration", "mean", "peak", "beyond ISO holding time"])
    )


def _days(r: ReportInput) -> str:
    rows = []
    for d in r.stats.days:
        high = d.iso_zone_s["20-60"] + d.iso_zone_s[">60"]
        rows.append(
            [
                d.label + (" *" if d.low_wear else ""),
                format_duration(d.wear_s),
                _pct(d.valid_s, d.span_s),
                format_duration(d.activity_s.get("sitting", 0.0)),
                _deg(d.percentiles_deg["P50"]),
                _pct(high, d.valid_s),
                str(d.episodes),
                str(d.sitting_bouts),
                f"{d.shifts_per_15min:.1f}",
                f"{d.alerts_corrected}/{d.alerts}",
            ]
        )
    header = [
        "day",
        "wear",
        "valid",
        "sitting",
        "P50",
        "&gt; 20°",
        "episodes",
        "bouts",
        "shifts/15 min",
        "alerts corrected",
    ]
    if any(d.low_wear for d in r.stats.days):  # the footnote as the table's last row
        rows.append(["<small>* under 8 h valid wear</small>"] + [""] * (len(header) - 1))
    return "<h2>Per day</h2>" + _table(rows, header, compact=True)


def _alerts(r: ReportInput) -> str:
    starts = {x.id: x.started_at for x in r.sessions}
    shown = r.stats.alerts[:_MAX_ALERT_ROWS]
    if not shown:
        return "<h3>Alerts</h3><p>No alerts.</p>"
    rows = [
        [
            _clock(starts[a.session_id], a.t_s),
            _e(a.kind),
            "–" if a.corrected is None else ("yes" if a.corrected else "no"),
            "–" if a.time_to_correct_s is None else f"{a.time_to_correct_s:.0f} s",
        ]
        for a in shown
    ]
    return f"<h3>Alerts (first {len(shown)} of {len(r.stats.alerts)})</h3>" + _table(
        rows, ["time", "kind", "corrected", "after"]
    )


def build_html(r: ReportInput, image_src: dict[str, str]) -> str:
    """The report as HTML; ``image_src`` maps figure names to ``src`` URLs."""

    def fig(name: str, caption: str) -> str:
        return f'<p align="center"><img src="{image_src[name]}" width="640"><br><small>{_e(caption)}</small></p>'  # noqa: E501

    if not r.has_posture:
        return "".join(
            [
                "<html><head><meta charset='utf-8'><title>Posture report</title></head>",
                "<body style='font-family: DejaVu Sans; font-size: 9pt'>",
                f"<h1>Posture report: {_e(r.study_id)}</h1>",
                f"<p><i>{_e(DISCLAIMER)}</i></p>",
                f"<p><small>Generated {r.generated_at:%Y-%m-%d %H:%M} by Posture Companion. "
                "Pseudonymised: study ID only.</small></p>",
                _exercise_only_header(r),
                r.exercise_html.replace(' style="page-break-before: always"', "", 1)
                or "<p>No exercise or range-of-motion results were stored in these sessions.</p>",
                f"<p><i>{_e(DISCLAIMER)}</i></p>",
                "</body></html>",
            ]
        )
    return "".join(
        [
            "<html><head><meta charset='utf-8'><title>Posture report</title></head>",
            "<body style='font-family: DejaVu Sans; font-size: 9pt'>",
            f"<h1>Posture report: {_e(r.study_id)}</h1>",
            f"<p><i>{_e(DISCLAIMER)}</i></p>",
            f"<p><small>Generated {r.generated_at:%Y-%m-%d %H:%M} by Posture Companion. "
            "Pseudonymised: study ID only, no name, Bluetooth address or serial number; "
            "pseudonymised data is still personal health data.</small></p>",
            _header(r),
            _key_figures(r),
            fig(
                "timeline",
                "Trunk flexion (means over the interval in the title), over ISO 11226 "
                "bands: blue < 0° (backward), green 0–20° (acceptable), "
                "amber 20–60° (time-limited), red > 60° (not acceptable).",
            ),
            fig("zones", "Share of valid time per ISO 11226 zone and per posture zone."),
            _eva(r),
            _episodes(r),
            fig("trend", "Hours per day in each ISO 11226 zone."),
            _days(r),
            _alerts(r),
            r.exercise_html,
            f"<p><i>{_e(DISCLAIMER)}</i></p>",
            "</body></html>",
        ]
    )


def write_pdf(r: ReportInput, figures: dict[str, QImage], path: Path) -> int:
    """Print the report to an A4 PDF; returns the page count."""
    ensure_app()
    doc = QTextDocument()
    for name, image in figures.items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"figure:{name}"), image)
    doc.setHtml(build_html(r, {n: f"figure:{n}" for n in figures}))
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Posture report {r.study_id}")
    writer.setCreator("Posture Companion")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    # 96 dpi keeps HTML pixel sizes (img width=640) in proportion to the page, see notes/qt.md
    writer.setResolution(96)
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print(writer)
    return doc.pageCount()


def _png_base64(image: QImage) -> str:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return base64.b64encode(bytes(data.data())).decode("ascii")


def write_html(r: ReportInput, figures: dict[str, QImage], path: Path) -> None:
    """Write the report as one self-contained HTML file (figures embedded as PNG)."""
    src = {n: "data:image/png;base64," + _png_base64(img) for n, img in figures.items()}
    path.write_text(build_html(r, src), encoding="utf-8")


def now_local() -> datetime:
    """Wall-clock time for the "generated" line (kept out of the pure metrics)."""
    return datetime.now(UTC).astimezone()
