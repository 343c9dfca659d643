"""The shared live/offline pipeline: analyze() == LiveAnalyzer fed block by block."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.model import NOMINAL_R_BS, Calibration
from calibration.procedures import fit_mounting
from calibration.synthetic import desk_motion, random_rotation, synthesize
from host.analysis import Analysis, LiveAnalyzer, analyze
from host.samples import SampleBlock

RATE_HZ = 100.0


def _window(block: SampleBlock, t0: float, t1: float) -> SampleBlock:
    idx = np.flatnonzero((block.t_s >= t0) & (block.t_s <= t1))
    return block.slice(int(idx[0]), int(idx[-1]) + 1)


@pytest.fixture(scope="module", params=[True, False], ids=["gyro", "gyroless"])
def day(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    t, flex, lat, head, walk, act = desk_motion(180.0, RATE_HZ, seed=21)
    mount = np.array(NOMINAL_R_BS) @ random_rotation(np.random.default_rng(22))
    rec = synthesize(
        t, flex, lat, head, r_bs=mount, walking=walk, gyro=request.param, seed=23, activity=act
    )
    cal = fit_mounting(_window(rec.samples, 2, 8), _window(rec.samples, 12, 16))
    return rec, cal


def test_analyze_equals_live_blocks(day) -> None:  # type: ignore[no-untyped-def]
    rec, cal = day
    whole = analyze(rec.samples, cal)
    live = LiveAnalyzer(RATE_HZ, gyro=rec.samples.has_gyro, calibration=cal)
    parts = [live.update(rec.samples.slice(i, i + 5)) for i in range(0, len(rec.samples), 5)]
    joined = Analysis.concatenate(parts)
    assert np.array_equal(joined.flexion_deg, whole.flexion_deg)
    assert np.array_equal(joined.lateral_deg, whole.lateral_deg)
    assert np.array_equal(joined.orientation.up_sensor, whole.orientation.up_sensor)
    assert np.array_equal(joined.orientation.confidence, whole.orientation.confidence)
    assert len(whole) == len(rec.samples)
    assert np.array_equal(whole.t_s, rec.samples.t_s)


def test_accuracy_against_truth(day) -> None:  # type: ignore[no-untyped-def]
    rec, cal = day
    online = analyze(rec.samples, cal)
    offline = analyze(rec.samples, cal, offline=True)
    still = rec.activity == "still"
    moving = rec.activity != "walking"

    def rmse(a: Analysis, mask: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a.flexion_deg - rec.flexion_deg)[mask] ** 2)))

    if rec.samples.has_gyro:
        assert rmse(online, slice(None)) < 0.6  # type: ignore[arg-type]
        assert rmse(offline, slice(None)) < 0.3  # type: ignore[arg-type]
    else:
        assert rmse(online, moving) < 1.5
        assert rmse(offline, moving) < rmse(online, moving)
    assert rmse(online, still) < 0.3


def test_without_calibration_angles_are_nan(day) -> None:  # type: ignore[no-untyped-def]
    rec, _ = day
    result = analyze(rec.samples.slice(0, 300), None)
    assert np.isnan(result.flexion_deg).all()
    assert np.isnan(result.lateral_deg).all()
    assert np.isfinite(result.orientation.up_sensor).all()


def test_set_calibration_applies_from_the_next_block(day) -> None:  # type: ignore[no-untyped-def]
    rec, cal = day
    live = LiveAnalyzer(RATE_HZ, gyro=rec.samples.has_gyro, calibration=None)
    first = live.update(rec.samples.slice(0, 100))
    live.set_calibration(cal)
    second = live.update(rec.samples.slice(100, 200))
    assert np.isnan(first.flexion_deg).all()
    assert np.isfinite(second.flexion_deg).all()
    assert np.abs(second.flexion_deg).max() < 1.0  # sitting upright


def test_sensor_corrections_are_applied(day) -> None:  # type: ignore[no-untyped-def]
    rec, cal = day
    offset = np.array([0.4, -0.3, 0.2])
    shifted = SampleBlock(rec.samples.t_s, rec.samples.accel_m_s2 + offset, rec.samples.gyro_rad_s)
    corrected = Calibration.from_dict({**cal.to_dict(), "accel_offset_m_s2": list(offset)})
    a = analyze(shifted.slice(0, 800), corrected)
    b = analyze(rec.samples.slice(0, 800), cal)
    np.testing.assert_allclose(a.flexion_deg, b.flexion_deg, atol=1e-6)


def test_empty_input() -> None:
    empty = SampleBlock(np.zeros(0), np.zeros((0, 3)))
    assert len(analyze(empty, None)) == 0
