"""Simulator speed: offline generation (× real time) and live packetisation cost.

Rows:
* generation of a desk_day (8 h, or 30 min with ``--quick``) at 100 Hz, with and without
  gyroscope: motion script, lever-arm physics, error model, int16 quantisation, truth. The peer
  is the floor any simulator with this error model pays: drawing the white noise and quantising
  the same number of values (nothing else).
* writing the results: the data CSV through ``host.csvio.write_csv`` and the truth CSV through
  the simulator's vectorised formatter.
* SimDevice live: cost of one simulated second of streaming (advance in 10 ms steps, 5-sample
  DATA packets encoded with host.protocol); the peer encodes the same packets and nothing else.

Run standalone with ``python -m bench.bench_sim [--quick]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from device_sim.firmware import SimDevice
from device_sim.generate import generate
from device_sim.truth import write_truth_csv
from host.csvio import write_csv
from host.protocol import LIVE_ONLY, Command, DataPacket, Opcode, encode_message

__all__ = ["run"]

RATE_HZ = 100


def _noise_floor(n: int, gyro: bool) -> float:
    """Seconds to draw white noise for n samples and quantise it (the peer)."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    width = 6 if gyro else 3
    values = rng.normal(0.0, 0.01, (n, width)) + 9.81
    np.clip(np.rint(values / 0.0024), -32768, 32767).astype(np.int16)
    return time.perf_counter() - start


def _live_cost(seconds: float) -> tuple[float, float, int]:
    """(µs per simulated second for SimDevice, µs for encoding alone, packets)."""
    device = SimDevice("desk_day", seed=1)
    device.handle_command(encode_message(Command(Opcode.START, (LIVE_ONLY,))))
    device.advance(20.0)  # past the preamble, blocks warm
    steps = round(seconds / 0.01)
    start = time.perf_counter()
    out = 0
    for _ in range(steps):
        out += len(device.advance(0.01))
    elapsed = time.perf_counter() - start
    accel = np.full((5, 3), 4096, np.int16)
    gyro = np.zeros((5, 3), np.int16)
    packets = [DataPacket(i * 5, i * 50_000, accel, gyro) for i in range(out)]
    start = time.perf_counter()
    for packet in packets:
        encode_message(packet)
    encode_only = time.perf_counter() - start
    return elapsed / seconds * 1e6, encode_only / seconds * 1e6, out


def run(quick: bool) -> list[dict[str, object]]:
    """Benchmark rows (see the module docstring)."""
    minutes = 30.0 if quick else 480.0
    label = "30 min" if quick else "8 h"
    rows: list[dict[str, object]] = []
    kept = None
    for gyro in (True, False):
        start = time.perf_counter()
        result = generate("desk_day", seed=1, minutes=minutes, gyro=gyro)
        elapsed = time.perf_counter() - start
        n = len(result.samples)
        floor = _noise_floor(n, gyro)
        rows.append(
            {
                "benchmark": f"sim generate desk_day {label}, {'6' if gyro else '3'}-axis",
                "ours": minutes * 60.0 / elapsed,
                "peer": minutes * 60.0 / floor,
                "unit": "x real time",
                "note": f"{n:,} samples in {elapsed:.1f} s; peer: noise + quantise only",
            }
        )
        if gyro:
            kept = result
    assert kept is not None
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_csv(Path(tmp) / "day.csv", kept.samples)
        data_s = time.perf_counter() - start
        start = time.perf_counter()
        write_truth_csv(Path(tmp) / "truth.csv", kept.truth)
        truth_s = time.perf_counter() - start
    n = len(kept.samples)
    rows.append(
        {
            "benchmark": f"write CSV {label}: data (host.csvio) / truth (sim)",
            "ours": truth_s,
            "peer": data_s,
            "unit": "s",
            "note": f"ours = truth CSV (9 columns), peer = write_csv data (7 columns); {n:,} rows",
        }
    )
    seconds = 20.0 if quick else 120.0
    ours_us, encode_us, packets = _live_cost(seconds)
    rows.append(
        {
            "benchmark": "SimDevice live streaming, per simulated second",
            "ours": ours_us,
            "peer": encode_us,
            "unit": "µs CPU / s of data",
            "note": f"100 Hz 6-axis, advance(10 ms), {packets / seconds:.0f} packets/s; "
            "peer: encode_message of the packets only",
        }
    )
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
