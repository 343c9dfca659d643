"""Terminal live view: an :class:`~host.engine.EngineListener` that shows the wearer's posture.

On a terminal it redraws a compact panel a few times per second (rich); when the output is not a
terminal (a pipe, a log, CI) it prints a plain status line at most once per second of wall time
(a simulator at 50x real time must not print 50 lines a second), plus every alert, link change
and message as it happens, so it works with no display at all.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from calibration.model import Calibration
from host.alerts import Alert
from host.engine import EngineListener, LiveUpdate
from host.posture import Activity, Zone
from host.protocol import StatusMessage
from host.transports.base import DeviceInfo, LinkEvent, LinkState

__all__ = ["LiveView", "alert_line", "link_line", "sensor_time"]

# Plain (non-terminal) output: at most one status line per this much wall time.
_LINE_INTERVAL_S = 1.0
_NO_CALIBRATION = "not calibrated: angles not shown"

_ZONE_STYLE = {
    Zone.RECLINED: ("reclined", "cyan"),
    Zone.UPRIGHT: ("upright", "green"),
    Zone.MILD: ("mild flexion", "yellow"),
    Zone.SLOUCHED: ("slouched", "red"),
    Zone.DEEP: ("deep flexion", "magenta"),
    Zone.UNKNOWN: ("—", "dim"),
}
_ACTIVITY = {
    Activity.UNKNOWN: "—",
    Activity.SITTING: "sitting",
    Activity.STANDING: "standing",
    Activity.WALKING: "walking",
    Activity.TRANSITION: "transition",
}


@dataclass
class _State:
    t_s: float = math.nan
    flexion_deg: float = math.nan
    lateral_deg: float = math.nan
    zone: Zone = Zone.UNKNOWN
    activity: Activity = Activity.UNKNOWN
    dwell_s: float = 0.0
    seconds_to_alert: float | None = None
    link: str = "connecting…"
    link_detail: str = ""
    device: str = ""
    battery_pct: int | None = None
    samples: int = 0
    calibrated: bool = False
    alerts: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class LiveView(EngineListener):
    """Shows live posture in a terminal (or as plain lines when not a terminal).

    Args:
        title: shown on top (usually the device string).
        stream: where to write; a terminal gets the live panel.
        statistics: callable returning link counters to show (e.g. ``link.statistics``).
    """

    def __init__(self, title: str, stream: TextIO, statistics: object | None = None) -> None:
        self._title = title
        self._stream = stream
        self._console = Console(file=stream, highlight=False)
        self._interactive = self._console.is_terminal
        self._state = _State()
        self._statistics = statistics
        self._live: Live | None = None
        self._last_line = -math.inf  # monotonic wall time of the last plain status line
        self._last_draw = 0.0

    def __enter__(self) -> LiveView:
        if self._interactive:
            self._live = Live(self._render(), console=self._console, refresh_per_second=8)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(None, None, None)
            self._live = None

    def message(self, text: str) -> None:
        """Print a line above the live panel (prompts, calibration results)."""
        if self._interactive:
            self._console.print(text)
        else:
            self._line(text)

    def _line(self, text: str) -> None:
        # Plain output for pipes and logs: one unwrapped line, flushed at once.
        self._stream.write(text + "\n")
        self._stream.flush()

    # ---------------------------------------------------------------- listener

    def on_update(self, update: LiveUpdate) -> None:
        p = update.posture
        if len(p) == 0:
            return
        s = self._state
        s.t_s = float(p.t_s[-1])
        s.flexion_deg = float(p.flexion_deg[-1])
        s.lateral_deg = float(p.lateral_deg[-1])
        s.zone = Zone(int(p.zone[-1]))
        s.activity = Activity(int(p.activity[-1]))
        s.dwell_s = float(p.dwell_s[-1])
        s.seconds_to_alert = update.seconds_to_alert
        s.samples += len(p)
        self._refresh()

    def on_alert(self, alert: Alert) -> None:
        line = alert_line(alert)
        self._state.alerts.append(line)
        if not self._interactive:
            self._line(line)
        self._refresh(force=True)

    def on_link(self, event: LinkEvent) -> None:
        self._state.link = _LINK_LABEL[event.state]
        self._state.link_detail = event.detail
        if not self._interactive:
            self._line(link_line(event))
        self._refresh(force=True)

    def on_calibration(self, calibration: Calibration | None) -> None:
        self._state.calibrated = calibration is not None
        self._refresh(force=True)

    def on_status(self, status: StatusMessage) -> None:
        self._state.battery_pct = status.battery_pct

    def on_info(self, info: DeviceInfo) -> None:
        self._state.device = info.name
        if info.battery_pct is not None:
            self._state.battery_pct = info.battery_pct

    def on_error(self, message: str) -> None:
        self.message(f"error: {message}")

    def on_notice(self, message: str) -> None:
        self.message(message)

    # ---------------------------------------------------------------- drawing

    def _refresh(self, force: bool = False) -> None:
        if self._live is not None:
            now = time.monotonic()
            if force or now - self._last_draw > 0.1:
                self._last_draw = now
                self._live.update(self._render())
            return
        if self._interactive:
            return
        now = time.monotonic()
        if now - self._last_line >= _LINE_INTERVAL_S:
            self._last_line = now
            self._line(self._plain_line())

    def _angles_shown(self) -> bool:
        s = self._state
        return s.calibrated or not (math.isnan(s.flexion_deg) and math.isnan(s.lateral_deg))

    def _plain_line(self) -> str:
        s = self._state
        alert = "" if s.seconds_to_alert is None else f" alert_in={s.seconds_to_alert:.0f}s"
        angles = (
            f"flexion={_deg(s.flexion_deg)} lateral={_deg(s.lateral_deg)}"
            if self._angles_shown()
            else f"({_NO_CALIBRATION})"
        )
        return (
            f"t={s.t_s:8.1f}s {angles} "
            f"zone={_ZONE_STYLE[s.zone][0]} activity={_ACTIVITY[s.activity]} "
            f"dwell={s.dwell_s:.0f}s{alert} link={s.link} {self._stats_text()}"
        )

    def _stats_text(self) -> str:
        stats_fn = self._statistics
        if not callable(stats_fn):
            return ""
        st = stats_fn()
        return (
            f"samples={getattr(st, 'samples', 0)} gaps={getattr(st, 'gaps', 0)} "
            f"reconnects={getattr(st, 'reconnects', 0)}"
        )

    def _render(self) -> Group:
        s = self._state
        name, colour = _ZONE_STYLE[s.zone]
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        if self._angles_shown():
            bar = _bar(s.flexion_deg)
            table.add_row(
                "Flexion",
                Text(f"{_deg(s.flexion_deg)}  {bar}  ", style=colour)
                + Text(name.upper(), style=f"bold {colour}"),
            )
            table.add_row("Lateral", _deg(s.lateral_deg) + "  (+ = right)")
        else:
            table.add_row("Flexion", Text(_NO_CALIBRATION, style="dim"))
        table.add_row("Activity", f"{_ACTIVITY[s.activity]}   in zone for {s.dwell_s:.0f} s")
        alert = "not counting" if s.seconds_to_alert is None else f"in {s.seconds_to_alert:.0f} s"
        table.add_row("Slouch alert", alert)
        battery = "" if s.battery_pct is None else f", battery {s.battery_pct} %"
        # when connected the detail repeats name and battery; otherwise it says why
        detail = f" ({s.link_detail})" if s.link_detail and s.link != "connected" else ""
        table.add_row("Sensor", f"{s.device or '?'}: {s.link}{detail}{battery}")
        table.add_row("Link", self._stats_text())
        header = Text(f"Posture Companion — {self._title}   t = {s.t_s:.1f} s", style="bold")
        alerts = Text("\n".join(s.alerts) if s.alerts else "no alerts yet", style="yellow")
        return Group(header, table, Text("Recent alerts:", style="bold"), alerts)


_LINK_LABEL = {
    LinkState.CONNECTING: "connecting…",
    LinkState.CONNECTED: "connected",
    LinkState.RECONNECTING: "reconnecting…",
    LinkState.CLOSED: "closed",
}


def link_line(event: LinkEvent) -> str:
    """``link: connecting… (connecting to sim:desk_day)``: one connection change, one line."""
    return f"link: {_LINK_LABEL[event.state]}" + (f" ({event.detail})" if event.detail else "")


def sensor_time(t_s: float) -> str:
    """Elapsed sensor time in words (``12 min 50 s``), never mistakable for a clock time."""
    total = max(0, int(t_s))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:02d} s"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


def alert_line(alert: Alert) -> str:
    """``ALERT slouch at 12 min 50 s (sensor time): flexion above 15° …``."""
    return f"ALERT {alert.kind} at {sensor_time(alert.t_s)} (sensor time): {alert.reason}"


def _deg(value: float) -> str:
    return "   n/a" if math.isnan(value) else f"{value:+6.1f}°"


def _bar(flexion_deg: float, width: int = 20) -> str:
    if math.isnan(flexion_deg):
        return "·" * width
    filled = max(0, min(width, round((flexion_deg + 10.0) / 70.0 * width)))
    return "█" * filled + "·" * (width - filled)
