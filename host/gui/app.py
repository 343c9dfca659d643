"""Dashboard bootstrap: Qt platform choice, QApplication, main window, screenshot mode.

Qt aborts the whole process when it cannot open a display, so the platform is decided before
``QApplication`` exists: with ``--screenshot`` and no ``DISPLAY``/``WAYLAND_DISPLAY`` we render
offscreen; without a display and without ``--screenshot`` there is nothing to show, and the
caller should use ``posture monitor`` instead (exit code 3).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QWidget

__all__ = ["DashboardOptions", "has_display", "run_dashboard"]

logger = logging.getLogger(__name__)

# In screenshot mode the grab waits up to this long past --exit-after for the first sample.
_SCREENSHOT_GRACE_S = 10.0


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """Whether Qt can show a window: a display server, or an explicit non-GUI platform."""
    env = os.environ if env is None else env
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or sys.platform in (
        "win32",
        "darwin",
    )


@dataclass(frozen=True, slots=True)
class DashboardOptions:
    """What ``posture dashboard`` was asked to do.

    Attributes:
        device: device to connect at start (None: the remembered one, not connected until asked,
            except in screenshot mode).
        settings_path: settings TOML (None: the user config directory).
        db_path: session database; overrides the settings' ``db_path`` for this run.
        screenshot: write a PNG of the window after ``exit_after_s`` and exit.
        exit_after_s: wall-clock seconds to run before the screenshot / exit (a screenshot also
            waits, at most 10 s more, until the first sample is on the plot).
    """

    device: str | None = None
    settings_path: Path | None = None
    db_path: Path | None = None
    screenshot: Path | None = None
    exit_after_s: float | None = None


def run_dashboard(options: DashboardOptions, started: float | None = None) -> int:
    """Run the dashboard until the window closes (or ``exit_after_s``); returns the exit code.

    Args:
        options: what to run.
        started: ``time.perf_counter()`` at process start, for the start-up log line.
    """
    started = time.perf_counter() if started is None else started
    if options.screenshot is not None and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    from host.gui.main_window import MainWindow
    from host.settings import load_settings

    settings = load_settings(options.settings_path)
    if options.db_path is not None:  # command-line flags come last (host.settings)
        settings = dataclasses.replace(settings, db_path=str(options.db_path))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Posture Companion")
    app.setOrganizationName("posture-companion")
    # A screenshot run must not change what the user's dashboard remembers.
    window = MainWindow(settings, options.settings_path, persist=options.screenshot is None)
    window.show()

    def first_sample() -> None:
        # Wall-clock epoch as well, so a parent process can time the whole cold start.
        logger.info(
            "first sample plotted at epoch %.3f (%.2f s after start)",
            time.time(),
            time.perf_counter() - started,
        )

    plotted: list[bool] = []
    window.first_sample_plotted.connect(first_sample)
    window.first_sample_plotted.connect(lambda: plotted.append(True))
    if options.device is not None or options.screenshot is not None:
        window.connect_device(options.device or settings.device)
    result = {"code": 0}
    if options.exit_after_s is not None:
        deadline = time.monotonic() + options.exit_after_s + _SCREENSHOT_GRACE_S

        def finish() -> None:
            if options.screenshot is not None:
                if not plotted and time.monotonic() < deadline:
                    # A slow machine: a screenshot of an empty plot helps nobody; wait a little.
                    QTimer.singleShot(100, finish)
                    return
                if not save_screenshot(window, options.screenshot):
                    result["code"] = 1
            window.close()
            app.quit()

        QTimer.singleShot(round(options.exit_after_s * 1000), finish)
    logger.info("window shown %.2f s after start", time.perf_counter() - started)
    app.exec()
    window.session.shutdown()
    return result["code"]


def save_screenshot(window: QWidget, path: Path) -> bool:
    """Grab ``window`` to a PNG readable by the user only (health data)."""
    from host.private_dirs import make_private_dirs

    make_private_dirs(path.parent)
    ok = window.grab().save(str(path), "PNG")
    if ok:
        path.chmod(0o600)
    else:
        logger.error("could not write screenshot %s", path)
    return bool(ok)
