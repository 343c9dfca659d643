"""``posture rom``: range-of-motion checks and clinical tests with the back sensor."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from host.commands._live import apply_settings, check_connected, keep_refused, positive_seconds
from host.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from host.engine import Engine
    from host.exercise.live import Feeder
    from host.exercise.rom import RomCheck, RomResult

__all__ = ["register", "run"]

_PROMPTS = {
    "flexion": "Stand still. Then bend forward as far as is comfortable, knees straight, hold "
    "2 s, come back up; three times.",
    "extension": "Stand still. Then lean back as far as is comfortable, hold 2 s, come back; "
    "three times.",
    "lateral": "Stand still. Then bend sideways, right, left, right, left: slide the hand down "
    "the thigh, hold 2 s each time.",
    "sts": "Sit on a chair, arms crossed, still. Then stand up fully and sit down five times "
    "as quickly as is safe.",
    "balance": "Stand still next to a support. Then lift one foot and balance as long as you "
    "can (up to 30 s).",
}

_EPILOG = """\
Results are stored in the session log (source "rom") with the date, for trends in the
therapist report. ROM norms (with --age) are population references from Troke et al. 2001,
interpolated by age, not a diagnosis.

examples:
  posture rom --device "sim:rom_all?speed=0" --test all --age 45
  posture rom --device ble:name=PostureSim-1A2B --test flexion
  posture rom --device serial:/dev/ttyACM0 --test sts --no-record
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``rom`` to the CLI."""
    p = sub.add_parser(
        "rom",
        help="range-of-motion checks: flexion, extension, lateral bend, 5x sit-to-stand, balance",
        description="Measure trunk range of motion (the largest angle held for 2 s, degrees, "
        "relative to standing still), the timed five-times sit-to-stand (seconds) and "
        "single-leg stance (hold time and sway). Follow the prompts; each test starts when "
        "you are still in its start position and ends after its trials.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--device",
        default=None,
        help="device string (default: $POSTURE_DEVICE, else the settings file's device, "
        "else 'ble:')",
    )
    p.add_argument(
        "--test",
        default="all",
        choices=("flexion", "extension", "lateral", "sts", "balance", "all"),
        help="which test (default: all, in that order)",
    )
    p.add_argument("--age", type=float, metavar="YEARS", help="compare ROM with age norms")
    p.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S seconds")
    p.add_argument("--db", type=Path, metavar="PATH", help="session database")
    p.add_argument("--no-record", action="store_true", help="do not store the results")
    p.set_defaults(func=run)


class _Sequence:
    """Runs the chosen tests one after the other on the live data."""

    def __init__(self, tests: list[str], age: float | None) -> None:
        from host.exercise.rom import RomCheck

        self.checks = [RomCheck(t, age_years=age) for t in tests]
        self.index = 0
        self.finished: list[tuple[float, RomCheck]] = []

    def start(self) -> None:
        """Say what the first test asks (once calibrated: its prompt follows calibration's)."""
        self._announce()

    def _announce(self) -> None:
        if self.index < len(self.checks):
            test = self.checks[self.index].test
            print(f"[{test}] {_PROMPTS[test]}", flush=True)

    @property
    def done(self) -> bool:
        return self.index >= len(self.checks)

    def update(self, t_s: np.ndarray, up: np.ndarray) -> None:
        while not self.done and len(t_s):
            check = self.checks[self.index]
            had_start = check.start is not None
            check.update(t_s, up)
            if check.start is not None and not had_start:
                print(
                    f"{check.start.t_s:8.1f} s  [{check.test}] start position captured, go",
                    flush=True,
                )
            if not check.done:
                return
            end = check.now_s
            self.finished.append((end, check))
            for r in check.results():
                print(f"{end:8.1f} s  {_line(r)}", flush=True)
            self.index += 1
            self._announce()
            keep = t_s > end
            t_s, up = t_s[keep], up[keep]


def _line(r: RomResult) -> str:
    if not math.isfinite(r.value):
        return f"{r.test}: not measured" + (
            f" ({r.detail['cycles']:.0f} cycles found)" if "cycles" in r.detail else ""
        )
    if r.test == "sts":
        return f"5x sit-to-stand: {r.value:.1f} s"
    if r.test == "balance":
        d = r.detail
        return (
            f"single-leg stance: {r.value:.1f} s, sway AP {d['sway_ap_deg']:.2f}° "
            f"ML {d['sway_ml_deg']:.2f}° RMS, {d['sway_velocity_deg_s']:.2f}°/s"
        )
    trials = ", ".join(f"{v:.0f}" for v in r.trials)
    text = f"{r.test.replace('_', ' ')}: {r.value:.1f}° (trials {trials})"
    if r.norm is not None and r.percent_of_norm is not None:
        text += f"; age norm {r.norm:.0f}° ({r.percent_of_norm:.0f} %, population reference)"
    return text


def run(args: argparse.Namespace) -> int:
    """Run the tests live; print and store the results."""
    from host.engine import Engine, EngineConfig
    from host.exercise.live import Feeder

    if args.age is not None and not 5 <= args.age <= 110:
        raise ConfigError(f"--age {args.age}: use 5 to 110 years")
    tests = (
        ["flexion", "extension", "lateral", "sts", "balance"] if args.test == "all" else [args.test]
    )
    apply_settings(args)  # settings.toml/POSTURE_* checked before connecting (exit 2); db_path
    engine = Engine(EngineConfig(device=args.device, haptics=False))
    seq = _Sequence(tests, args.age)

    def consume(t_s: np.ndarray, up: np.ndarray) -> None:
        seq.update(t_s, up)
        if seq.done:
            engine.stop()

    feeder = Feeder(consume, lambda text: print(text, flush=True))
    engine.listeners.append(feeder)
    asyncio.run(_main(engine, feeder, args.duration, seq.start))
    check_connected(engine, args.duration)  # never connected: exit 1, like monitor
    results = [(t, r) for t, check in seq.finished for r in check.results()]
    if seq.index < len(seq.checks) and seq.checks[seq.index].start is not None:
        check = seq.checks[seq.index]  # interrupted: keep what it found
        results += [(check.now_s, r) for r in check.results()]
    if not results:
        print("No test was completed.")
        return 0
    if not args.no_record:
        from host.errors import PostureError
        from host.exercise.records import record_rom, save_unstored_rom
        from host.recording.store import SessionStore

        try:
            with SessionStore.open(args.db) as store:
                sid = record_rom(store, results, device=args.device, age_years=args.age)
        except PostureError as exc:  # the database cannot be opened or written
            print(f"posture rom: cannot store the results: {exc}", file=sys.stderr)
            return keep_refused(
                "posture rom",
                "the results",
                lambda: save_unstored_rom(results, device=args.device, age_years=args.age),
                args.db,
            )
        print(f"recorded session {sid}")
    return 0


async def _main(
    engine: Engine, feeder: Feeder, duration: float | None, calibrated: Callable[[], None]
) -> None:
    """Run the engine; calibrate first, then (``calibrated``: the first test's prompt) let the
    feeder pass data to the tests."""
    from host.exercise.live import calibrate_at_start

    runner = asyncio.create_task(engine.run(duration))
    calibrator = asyncio.create_task(calibrate_at_start(engine, feeder.say, then=""))
    done, _ = await asyncio.wait({runner, calibrator}, return_when=asyncio.FIRST_COMPLETED)
    if calibrator in done and not calibrator.cancelled():
        calibrator.result()
        calibrated()
    else:  # the engine ended first (link error, --duration): `await runner` says which
        calibrator.cancel()
        await asyncio.gather(calibrator, return_exceptions=True)
    feeder.enabled = True
    await runner
