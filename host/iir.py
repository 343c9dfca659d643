"""Butterworth design and streaming IIR filtering without importing ``scipy.signal`` (pure).

``import scipy.signal`` costs about a second (it loads most of SciPy), which every live command
and the dashboard paid at start-up for the three small filters of :mod:`host.posture`. This module
gives the same numbers from numpy alone:

* :func:`butter` repeats ``scipy.signal.butter(N, Wn, btype)`` ("ba" output) step by step
  (analogue prototype → frequency transform → bilinear transform → polynomial expansion) with the
  same numpy operations in the same order, so the coefficients are bit-identical;
* :func:`lfilter_zi` is ``scipy.signal.lfilter_zi`` (companion matrix, one linear solve);
* :func:`lfilter` evaluates the transposed direct form II of ``scipy.signal.lfilter`` with carried
  state. Live blocks (a few samples) run a plain-float loop with the very expressions of SciPy's C
  loop (``y = z₀ + b₀x``, ``zᵢ = zᵢ₊₁ + bᵢ₊₁x − aᵢ₊₁y``, ``z_last = b_last·x − a_last·y``),
  which is exact IEEE arithmetic and ~10× faster than a SciPy call at that size; long blocks
  (re-analysing a recording) import ``scipy.signal`` on first use and call its C loop. The tests
  check both against SciPy bit for bit, so the output never depends on how a stream is cut.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LOOP_MAX_SAMPLES", "butter", "lfilter", "lfilter_floats", "lfilter_zi"]

FloatArray = npt.NDArray[np.float64]

# blocks up to this many samples use the plain-float loop, longer ones SciPy's C loop
LOOP_MAX_SAMPLES = 64


def _poly(roots: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``numpy.poly`` / SciPy's ``_polyutils.poly`` for 1-D roots (same convolutions)."""
    if roots.shape[0] == 0:
        return np.asarray(1.0)
    coeffs = np.ones((1,), dtype=roots.dtype)
    one = np.ones_like(roots[0])
    for root in roots:
        coeffs = np.convolve(coeffs, np.stack((one, -root)), mode="full")
    if np.iscomplexobj(coeffs):
        # complex roots in conjugate pairs give a real polynomial
        as_complex = np.asarray(roots, dtype=np.complex128)
        if np.all(np.sort(np.imag(as_complex)) == np.sort(np.imag(np.conj(as_complex)))):
            coeffs = np.real(coeffs).copy()
    return coeffs


def butter(
    order: int, wn: float | tuple[float, float], btype: str = "lowpass"
) -> tuple[FloatArray, FloatArray]:
    """Digital Butterworth coefficients, exactly ``scipy.signal.butter(order, wn, btype)``.

    Args:
        order: filter order N (a band-pass filter has order 2N).
        wn: critical frequency, or (low, high) for ``bandpass``, as a fraction of Nyquist (0..1).
        btype: ``lowpass``, ``highpass`` or ``bandpass``.

    Returns:
        ``(b, a)``: numerator and denominator polynomials, ``a[0] == 1``.

    Raises:
        ValueError: a frequency outside (0, 1), a band with low ≥ high, or another btype.
    """
    wn_arr = np.asarray(wn, dtype=np.float64)
    if np.any(wn_arr <= 0) or np.any(wn_arr >= 1):
        raise ValueError(f"critical frequencies must be 0 < Wn < 1, not {wn}")
    if wn_arr.size > 1 and not wn_arr[0] < wn_arr[1]:
        raise ValueError(f"Wn[0] must be less than Wn[1], not {wn}")
    # analogue prototype (scipy.signal.buttap)
    z: npt.NDArray[Any] = np.asarray([], dtype=np.float64)
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p: npt.NDArray[Any] = -np.exp(1j * np.pi * m / (2 * order))
    k: Any = 1.0
    fs = 2.0
    warped = 2 * fs * np.tan(np.pi * wn_arr / fs)  # pre-warp for the bilinear transform
    degree = p.shape[0] - z.shape[0]
    if btype == "lowpass" and wn_arr.size == 1:  # lp2lp_zpk
        wo = float(warped)
        z, p, k = wo * z, wo * p, k * wo**degree
    elif btype == "highpass" and wn_arr.size == 1:  # lp2hp_zpk
        wo = float(warped)
        k = k * np.real(np.prod(-z) / np.prod(-p))
        z = np.concatenate((wo / z, np.zeros(degree)))
        p = wo / p
    elif btype == "bandpass" and wn_arr.size == 2:  # lp2bp_zpk
        bw = float(warped[1] - warped[0])
        wo = float(np.sqrt(warped[0] * warped[1]))
        z_lp = (z.astype(np.complex128) * bw / 2).astype(np.complex128)
        p_lp = (p * bw / 2).astype(np.complex128)
        z = np.concatenate(
            (
                np.concatenate((z_lp + np.sqrt(z_lp**2 - wo**2), z_lp - np.sqrt(z_lp**2 - wo**2))),
                np.zeros(degree),
            )
        )
        p = np.concatenate((p_lp + np.sqrt(p_lp**2 - wo**2), p_lp - np.sqrt(p_lp**2 - wo**2)))
        k = k * bw**degree
    else:
        raise ValueError(f"unsupported filter: btype={btype!r} with Wn={wn}")
    # bilinear transform (bilinear_zpk)
    degree = p.shape[0] - z.shape[0]
    fs2 = 2.0 * fs
    k_z = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    z_z = np.concatenate(((fs2 + z) / (fs2 - z), -np.ones(degree)))
    p_z = (fs2 + p) / (fs2 - p)
    # zpk2tf
    k_arr = np.atleast_1d(np.asarray(k_z, dtype=np.result_type(np.real(z_z), np.real(p_z), k_z)))
    b = np.multiply(k_arr, _poly(z_z))
    a = np.atleast_1d(np.asarray(_poly(p_z)))
    return np.asarray(b, dtype=np.float64), np.asarray(a, dtype=np.float64)


def lfilter_zi(b: FloatArray, a: FloatArray) -> FloatArray:
    """Steady-state initial state for :func:`lfilter` (``scipy.signal.lfilter_zi``).

    Multiply by the first input value to start a filter without a transient.
    """
    if a[0] != 1.0:
        b = b / a[0]
        a = a / a[0]
    n = max(a.shape[0], b.shape[0])
    a = np.concatenate((a, np.zeros(n - a.shape[0])))
    b = np.concatenate((b, np.zeros(n - b.shape[0])))
    companion = np.zeros((n - 1, n - 1))
    companion[0] = -a[1:] / (1.0 * a[0])
    companion[np.arange(1, n - 1), np.arange(0, n - 2)] = 1
    i_minus_a = np.eye(n - 1) - companion.T
    zi: FloatArray = np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0])
    return zi


def lfilter(
    b: FloatArray, a: FloatArray, x: FloatArray, zi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Filter ``x`` along its first axis from state ``zi`` (``scipy.signal.lfilter(..., zi=zi)``).

    Args:
        b: numerator, same length as ``a`` (pad with zeros).
        a: denominator with ``a[0] == 1``.
        x: (N,) or (N, K) input; columns are filtered independently.
        zi: (M,) or (M, K) state, ``M = len(a) - 1``.

    Returns:
        ``(y, zf)``: output shaped like ``x`` and the final state shaped like ``zi``.

    Raises:
        ValueError: ``a[0] != 1``, ``b`` and ``a`` of different lengths, or a state that does not
            fit.
    """
    order = a.shape[0] - 1
    if b.shape[0] != a.shape[0] or a[0] != 1.0 or order < 1:
        raise ValueError("lfilter needs b and a of the same length ≥ 2 and a[0] == 1")
    if zi.shape != (order, *x.shape[1:]):
        raise ValueError(f"state shape {zi.shape} does not fit order {order} and x {x.shape}")
    if x.shape[0] > LOOP_MAX_SAMPLES:
        from scipy import signal  # about a second to import: only when needed

        y, zf = signal.lfilter(b, a, x, axis=0, zi=zi)
        return np.asarray(y, dtype=np.float64), np.asarray(zf, dtype=np.float64)
    if x.ndim == 1:
        y_col, z_col = _loop(b.tolist(), a.tolist(), x.tolist(), zi.tolist())
        return np.array(y_col, dtype=np.float64), np.array(z_col, dtype=np.float64)
    bl, al = b.tolist(), a.tolist()
    columns = [_loop(bl, al, xc, zc) for xc, zc in zip(x.T.tolist(), zi.T.tolist(), strict=True)]
    y = np.array([c[0] for c in columns], dtype=np.float64).T.reshape(x.shape)
    zf = np.array([c[1] for c in columns], dtype=np.float64).T.reshape(zi.shape)
    return y, zf


def lfilter_floats(
    b: list[float], a: list[float], x: list[float], z: list[float]
) -> tuple[list[float], list[float]]:
    """:func:`lfilter` of one column in plain floats, for callers that already hold floats.

    Same arithmetic as :func:`lfilter` (any block size); ``a[0]`` must be 1 and ``len(b) ==
    len(a) == len(z) + 1`` (not checked).
    """
    return _loop(b, a, x, z)


def _loop(
    b: list[float], a: list[float], x: list[float], z: list[float]
) -> tuple[list[float], list[float]]:
    """SciPy's transposed direct form II loop, expression for expression, in plain floats."""
    y: list[float] = []
    append = y.append
    if len(z) == 1:
        b0, b1 = b
        a1 = a[1]
        (z0,) = z
        for xn in x:
            yn = z0 + b0 * xn
            z0 = xn * b1 - yn * a1
            append(yn)
        return y, [z0]
    if len(z) == 2:
        b0, b1, b2 = b
        a1, a2 = a[1], a[2]
        z0, z1 = z
        for xn in x:
            yn = z0 + b0 * xn
            z0 = z1 + xn * b1 - yn * a1
            z1 = xn * b2 - yn * a2
            append(yn)
        return y, [z0, z1]
    z = list(z)
    last = len(z) - 1
    b0 = b[0]
    for xn in x:
        yn = z[0] + b0 * xn
        for i in range(last):
            z[i] = z[i + 1] + xn * b[i + 1] - yn * a[i + 1]
        z[last] = xn * b[last + 1] - yn * a[last + 1]
        append(yn)
    return y, z
