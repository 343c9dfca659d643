"""host.iir: SciPy's Butterworth design and lfilter, bit for bit, without importing scipy.signal."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from host import iir

RATES_HZ = (12.5, 25.0, 50.0, 52.0, 95.238, 100.0, 104.0, 200.0, 400.0, 833.0, 1000.0)


@pytest.mark.parametrize("rate_hz", RATES_HZ)
def test_butter_and_zi_equal_scipy_bit_for_bit(rate_hz: float) -> None:
    nyq = rate_hz / 2.0
    designs = [
        (2, (1.2 / nyq, min(3.0 / nyq, 0.95)), "bandpass"),  # host.posture's three filters
        (2, 0.5 / nyq, "highpass"),
        (2, min(2.0 / nyq, 0.95), "lowpass"),
        (1, 0.3 / nyq, "lowpass"),
        (3, 0.7, "highpass"),
        (4, 0.2, "lowpass"),
    ]
    for order, wn, btype in designs:
        expected = signal.butter(order, list(wn) if isinstance(wn, tuple) else wn, btype=btype)
        got = iir.butter(order, wn, btype)
        assert np.array_equal(got[0], expected[0]), (order, wn, btype)
        assert np.array_equal(got[1], expected[1]), (order, wn, btype)
        assert np.array_equal(iir.lfilter_zi(*got), signal.lfilter_zi(*expected))


def test_butter_refuses_what_scipy_refuses() -> None:
    with pytest.raises(ValueError, match="0 < Wn < 1"):
        iir.butter(2, 1.0)
    with pytest.raises(ValueError, match="less than"):
        iir.butter(2, (0.3, 0.2), "bandpass")
    with pytest.raises(ValueError, match="unsupported"):
        iir.butter(2, 0.2, "bandstop")


@pytest.mark.parametrize("n", [1, 2, 5, iir.LOOP_MAX_SAMPLES, iir.LOOP_MAX_SAMPLES + 1, 3000])
def test_lfilter_equals_scipy_for_small_and_large_blocks(n: int) -> None:
    rng = np.random.default_rng(n)
    designs = [
        iir.butter(2, (0.024, 0.06), "bandpass"),
        iir.butter(2, 0.01, "highpass"),
        iir.butter(2, 0.04),
        (np.array([0.02, 0.0]), np.array([1.0, -0.98])),  # one pole, b padded (posture's envelope)
    ]
    for b, a in designs:
        for cols in (None, 3):
            shape = (n,) if cols is None else (n, cols)
            x = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4)
            zi = rng.normal(size=(a.shape[0] - 1,) if cols is None else (a.shape[0] - 1, cols))
            y, zf = iir.lfilter(b, a, x, zi)
            y_ref, zf_ref = signal.lfilter(b, a, x, axis=0, zi=zi)
            assert np.array_equal(y, y_ref)
            assert np.array_equal(zf, zf_ref)
            assert y.shape == x.shape
            assert zf.shape == zi.shape


def test_any_chunking_gives_identical_output() -> None:
    """Chunks below and above LOOP_MAX_SAMPLES mix the plain-float loop and SciPy's C loop."""
    rng = np.random.default_rng(7)
    b, a = iir.butter(2, (0.024, 0.06), "bandpass")
    x = rng.normal(size=(5000, 2))
    whole, _ = iir.lfilter(b, a, x, np.zeros((4, 2)))
    parts, z, i = [], np.zeros((4, 2)), 0
    while i < x.shape[0]:
        size = int(rng.integers(1, 3 * iir.LOOP_MAX_SAMPLES))
        y, z = iir.lfilter(b, a, x[i : i + size], z)
        parts.append(y)
        i += size
    assert np.array_equal(np.concatenate(parts), whole)


def test_lfilter_refuses_mismatched_arguments() -> None:
    b, a = iir.butter(2, 0.1)
    with pytest.raises(ValueError, match="state shape"):
        iir.lfilter(b, a, np.zeros(5), np.zeros(3))
    with pytest.raises(ValueError, match="same length"):
        iir.lfilter(b[:2], a, np.zeros(5), np.zeros(2))
    with pytest.raises(ValueError, match="same length"):
        iir.lfilter(b, 2 * a, np.zeros(5), np.zeros(2))


def test_posture_and_live_blocks_do_not_import_scipy_signal() -> None:
    """The point of the module: a second of start-up for every live command and the dashboard."""
    code = (
        "import sys, numpy as np\n"
        "from host.posture import PostureTracker\n"
        "from host.analysis import Analysis, analyze\n"
        "from host.samples import SampleBlock\n"
        "t = np.arange(200) / 100.0\n"
        "acc = np.tile([9.81, 0.0, 0.0], (200, 1))\n"
        "s = SampleBlock(t, acc, np.zeros((200, 3)))\n"
        "an = analyze(s, None)\n"
        "tr = PostureTracker()\n"
        "for i in range(0, 200, 5):\n"
        "    part = Analysis(an.orientation.slice(i, i + 5), an.flexion_deg[i:i + 5],"
        " an.lateral_deg[i:i + 5])\n"
        "    tr.update(s.slice(i, i + 5), part)\n"
        "assert 'scipy.signal' not in sys.modules, 'scipy.signal was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=50, check=False
    )
    assert result.returncode == 0, result.stderr
