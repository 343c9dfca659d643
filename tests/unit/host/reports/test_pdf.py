"""The PDF report: pages exist, key numbers are in the text, plots are not empty."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from host.recording.store import SessionStore
from host.recording.synthetic import SITTING, STANDING, WALKING, Segment, desk_day, synthesize
from host.reports.load import load_session_data
from host.reports.metrics import compute
from host.reports.pdf import ReportInput, render_figures, write_html, write_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="needs poppler-utils (dev.sh installs it)"
)
TZ = timezone(timedelta(hours=1))
GREEN = np.array([0xA1, 0xD9, 0x9B])  # ISO 0-20° band
LINE = np.array([0x08, 0x30, 0x6B])  # flexion trace


def _png(path: Path) -> np.ndarray:
    """A PNG page as an (H, W, 3) uint8 array, decoded by Qt."""
    from PyQt6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), path
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits().asstring(stride * h), np.uint8)
    return raw.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


def _near(img: np.ndarray, color: np.ndarray, tol: int = 12) -> np.ndarray:
    near: np.ndarray = np.all(np.abs(img.astype(int) - color) <= tol, axis=2)
    return near


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportInput, Path]:
    tmp = tmp_path_factory.mktemp("report")
    store = SessionStore.open(tmp / "s.sqlite3")
    for day in range(3):
        segs = [
            Segment(300, SITTING, 5),
            Segment(420, SITTING, 33),
            Segment(60, WALKING, 4),
            Segment(120, STANDING, 2),
            *desk_day(hours=0.5, seed=day),
        ]
        _, posture = synthesize(segs, rate_hz=5.0, seed=day)
        sid = store.create_session(
            device="ble:AA:BB:CC:DD:EE:FF",
            source="test",
            device_info={"name": "PostureSim-1A2B", "address": "AA:BB:CC:DD:EE:FF"},
            calibration={"method": "neutral+forward", "forward_bend_deg": 34.8},
            started_at=datetime(2026, 11, 2 + day, 9, 0, tzinfo=TZ),
        )
        store.append_posture(sid, posture)
        store.add_event(sid, 500.0, "alert", {"kind": "slouch"})
        store.end_session(sid)
    sessions = store.sessions()
    data = load_session_data(store, sessions)
    r = ReportInput(store.study_id, sessions, data, compute(data), datetime(2026, 11, 5, tzinfo=TZ))
    store.close()
    return r, tmp


def test_pdf_text_pages_and_plots(report: tuple[ReportInput, Path]) -> None:
    r, tmp = report
    pdf = tmp / "r.pdf"
    pages = write_pdf(r, render_figures(r), pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert f"Pages:           {pages}" in info.stdout
    assert "A4" in info.stdout
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    o = r.stats.overall
    assert r.study_id in text
    assert "not a diagnosis" in text
    assert f"{o.percentiles_deg['P50']:.1f}°" in text
    assert f"{o.episodes} episodes" in text
    assert "2026-11-03" in text
    assert "AA:BB" not in text  # pseudonymised: no Bluetooth address anywhere
    assert "<address removed>" in text
    assert "forward bend 35°" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp / "page")], check=True)
    images = [_png(p) for p in sorted(tmp.glob("page-*.png"))]
    assert len(images) == pages
    # the timeline (first page with a green band) must carry the trace and vary inside the band box
    first = next(img for img in images if _near(img, GREEN).sum() > 500)
    ys, xs = np.nonzero(_near(first, GREEN))
    box = first[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert _near(first, LINE, tol=40).sum() > 100
    assert box.astype(float).std() > 20.0
    # every figure is drawn: green bars/bands appear on pages holding the other plots too
    assert sum(int(_near(img, GREEN).sum() > 200) for img in images) >= 2


def test_html_is_self_contained(report: tuple[ReportInput, Path]) -> None:
    r, tmp = report
    path = tmp / "r.html"
    write_html(r, render_figures(r), path)
    text = path.read_text()
    assert text.count("data:image/png;base64,") == 3
    assert "AA:BB" not in text
