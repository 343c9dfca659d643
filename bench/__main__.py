"""``python -m bench [NAME ...] [--quick]``: run the benchmarks and print one table.

Discovers every ``bench/bench_*.py`` module (or runs only the NAMEs given, with or without the
``bench_`` prefix), calls its ``run(quick)``, prints the rows as one aligned table and writes them
as JSON to ``bench/results.json``. A module that fails contributes an error row; the others
still run and the exit status is 1 at the end.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

COLUMNS = ("benchmark", "ours", "peer", "unit", "note")
RESULTS_PATH = Path(__file__).resolve().parent / "results.json"


def discover() -> list[str]:
    """Names of all benchmark modules (without the ``bench_`` prefix), sorted."""
    here = str(Path(__file__).resolve().parent)
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([here])
        if m.name.startswith("bench_")
    )


def format_value(value: object) -> str:
    """Numbers with about four significant digits, everything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        magnitude = abs(value)
        if magnitude >= 1000:
            return f"{value:,.0f}"
        if magnitude == 0 or magnitude >= 0.01:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


def render_table(rows: Sequence[dict[str, object]]) -> str:
    """An aligned text table of ``rows`` in the columns :data:`COLUMNS` (numbers right-aligned)."""
    cells = [[format_value(row.get(c)) for c in COLUMNS] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(COLUMNS)]
    numeric = {1, 2}

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if i in numeric else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return " | ".join(parts).rstrip()

    out = [line(COLUMNS), "-+-".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def run_module(name: str, quick: bool) -> tuple[list[dict[str, object]], bool]:
    """Import and run one benchmark module; on failure return one error row and False."""
    module_name = f"bench.bench_{name.removeprefix('bench_')}"
    started = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
        rows = list(module.run(quick))
    except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
        traceback.print_exc(file=sys.stderr)
        return [{"benchmark": name, "note": f"FAILED: {type(exc).__name__}: {exc}"}], False
    elapsed = time.perf_counter() - started
    print(f"bench: {name} done in {elapsed:.1f} s", file=sys.stderr)
    return rows, True


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 all ran, 1 a module failed, 2 unknown name)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run Posture Companion's benchmarks and print one table "
        "(benchmark | ours | peer | unit | note); rows are also written to bench/results.json.",
        epilog="examples:\n  python -m bench              all benchmarks, full size\n"
        "  python -m bench --quick      all, small inputs (a smoke run, numbers are noisier)\n"
        "  python -m bench protocol     only bench/bench_protocol.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default all)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS_PATH,
        help="where to write the rows as JSON (default bench/results.json)",
    )
    args = parser.parse_args(argv)
    available = discover()
    names = [n.removeprefix("bench_") for n in args.names] or available
    unknown = [n for n in names if n not in available]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}"
        )
    rows: list[dict[str, object]] = []
    ok = True
    for name in names:
        module_rows, module_ok = run_module(name, args.quick)
        rows.extend(module_rows)
        ok = ok and module_ok
    print(render_table(rows))
    report = {
        "quick": args.quick,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
