"""Ground truth that travels with simulated samples, and its files (TRUTH.csv + TRUTH.json).

The truth CSV has one row per data sample, on the same time axis as the data CSV::

    t,flexion_deg,lateral_deg,rotation_deg,up_x,up_y,up_z,activity,slouch

``up_*`` is the true unit "up" vector in the SENSOR frame (what a perfect still accelerometer
reads, normalised); flexion and lateral come from the body-frame up vector with the shared
formulas, so a perfect host estimate matches them exactly. The JSON sidecar holds the mounting
rotation, seed, rate, scenario, error-model parameters and the slouch episodes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device_sim.csvfast import format_rows
from device_sim.script import ACTIVITIES

__all__ = ["Truth", "episodes_from_truth", "private_file", "write_truth_csv", "write_truth_json"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class Truth:
    """Ground truth for N samples.

    Attributes:
        seq: (N,) sample sequence numbers (as in the DATA packets, unwrapped).
        t_s: (N,) device time of each sample, s (the data's time axis).
        flexion_deg, lateral_deg, rotation_deg: (N,) trunk angles relative to upright.
        up_sensor: (N, 3) unit up vector in the sensor frame.
        activity: (N,) int8 index into :data:`device_sim.script.ACTIVITIES`.
        slouch: (N,) inside a designed slouch episode.
    """

    seq: npt.NDArray[np.int64]
    t_s: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    rotation_deg: FloatArray
    up_sensor: FloatArray
    activity: npt.NDArray[np.int8]
    slouch: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def activity_names(self) -> npt.NDArray[np.str_]:
        """Activity label strings per sample."""
        return np.array(ACTIVITIES)[self.activity]

    def select(self, rows: Any) -> Truth:
        """A subset of rows (boolean mask, index array or slice)."""
        fields: dict[str, Any] = {name: getattr(self, name)[rows] for name in _FIELDS}
        return Truth(**fields)

    @staticmethod
    def concatenate(parts: list[Truth]) -> Truth:
        """Join truths in order."""
        if not parts:
            return Truth(
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
                np.zeros(0),
                np.zeros(0),
                np.zeros((0, 3)),
                np.zeros(0, np.int8),
                np.zeros(0, bool),
            )
        fields: dict[str, Any] = {
            name: np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS
        }
        return Truth(**fields)


_FIELDS = (
    "seq",
    "t_s",
    "flexion_deg",
    "lateral_deg",
    "rotation_deg",
    "up_sensor",
    "activity",
    "slouch",
)


def episodes_from_truth(truth: Truth) -> list[dict[str, float]]:
    """Slouch episodes as runs of the slouch flag: start_s, end_s and peak_deg (truth flexion)."""
    flag = truth.slouch.astype(np.int8)
    edges = np.diff(np.concatenate(([0], flag, [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for a, b in zip(starts, stops, strict=True):
        end = truth.t_s[b] if b < len(truth) else truth.t_s[b - 1]
        out.append(
            {
                "start_s": round(float(truth.t_s[a]), 3),
                "end_s": round(float(end), 3),
                "peak_deg": round(float(truth.flexion_deg[a:b].max()), 2),
            }
        )
    return out


def private_file(path: Path) -> None:
    """Create (or truncate) ``path`` readable by the user only: health data (0600, dir 0700)."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)


def write_truth_csv(path: str | Path, truth: Truth, chunk: int = 100_000) -> None:
    """Write the truth CSV (0600), formatted vectorised (2.9 M rows in seconds)."""
    path = Path(path)
    private_file(path)
    names = np.array([a.encode() for a in ACTIVITIES])
    with open(path, "wb") as out:
        out.write(b"t,flexion_deg,lateral_deg,rotation_deg,up_x,up_y,up_z,activity,slouch\n")
        for a in range(0, len(truth), chunk):
            part = truth.select(slice(a, a + chunk))
            out.write(
                format_rows(
                    [
                        (part.t_s, 6),
                        (part.flexion_deg, 3),
                        (part.lateral_deg, 3),
                        (part.rotation_deg, 3),
                        (part.up_sensor[:, 0], 6),
                        (part.up_sensor[:, 1], 6),
                        (part.up_sensor[:, 2], 6),
                        names[part.activity],
                        (part.slouch.astype(np.float64), 0),
                    ]
                )
            )


def write_truth_json(path: str | Path, meta: dict[str, Any]) -> None:
    """Write the JSON sidecar (0600)."""
    path = Path(path)
    private_file(path)
    path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
