"""Scoring orientation estimates against reference data (BROAD), for tests and benchmarks.

BROAD: D. Laidig, M. Caruso, A. Cereatti, T. Seel, "BROAD—A Benchmark for Robust Inertial
Orientation Estimation", Data 6(7):72, 2021, doi:10.3390/data6070072, CC BY 4.0. The decimated
trials and the metric are described in ``../shared/data/broad/README.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from host.samples import SampleBlock

__all__ = ["inclination_rmse_deg", "load_broad_trial"]

_COLUMNS = ("t_s", "ax", "ay", "az", "gx", "gy", "gz", "ref_upx", "ref_upy", "ref_upz", "movement")


def inclination_rmse_deg(
    up: npt.NDArray[np.float64], ref: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]
) -> float:
    """RMS angle between estimated and reference up vectors over ``mask`` with a valid reference.

    Args:
        up: (N, 3) estimated up vectors, sensor frame.
        ref: (N, 3) reference up vectors (NaN where the reference is missing).
        mask: (N,) samples to score (BROAD: ``movement == 1``).
    """
    ok = mask & np.all(np.isfinite(ref), axis=1)
    u = up[ok] / np.linalg.norm(up[ok], axis=1, keepdims=True)
    r = ref[ok] / np.linalg.norm(ref[ok], axis=1, keepdims=True)
    angle = np.degrees(np.arccos(np.clip(np.sum(u * r, axis=1), -1.0, 1.0)))
    return float(np.sqrt(np.mean(angle**2)))


def load_broad_trial(
    path: Path,
) -> tuple[SampleBlock, npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Samples, reference up vectors and the movement mask of one decimated BROAD trial.

    Read directly rather than with host.csvio.read_csv: the file carries reference columns, and
    hand-held BROAD motions are far faster than trunk motion.
    """
    header = path.read_text(encoding="utf-8").partition("\n")[0].split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[header.index(c) for c in _COLUMNS])
    samples = SampleBlock(
        np.ascontiguousarray(data[:, 0]),
        np.ascontiguousarray(data[:, 1:4]),
        np.ascontiguousarray(data[:, 4:7]),
    )
    return samples, data[:, 7:10], data[:, 10] == 1
