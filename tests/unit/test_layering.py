"""Layering rules from docs/architecture.md, checked on the source (AST, nothing is imported).

* Pure modules (protocol, samples, csvio, fusion, angles, posture, alerts, calibration model and
  procedures) import no asyncio, Bluetooth, serial, Qt, engine, GUI or transport (except the
  ``host.transports.base`` value types) and no simulator, and never read a wall clock: they take
  time only from samples. ``host/csvio.py`` reads and writes files by design; that is its job.
* Nothing in ``host/`` imports ``device_sim``: the host reaches the simulator only through the
  transport registry's string.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PATTERNS = (
    "host/protocol.py",
    "host/samples.py",
    "host/csvio.py",
    "host/fusion/*.py",
    "host/angles.py",
    "host/posture.py",
    "host/iir.py",
    "host/alerts.py",
    "host/alerts/*.py",
    "host/analysis.py",
    "host/exercise/signals.py",
    "host/exercise/counting.py",
    "host/exercise/scoring.py",
    "host/exercise/coach.py",
    "host/exercise/rom.py",
    "host/exercise/adherence.py",
    "host/exercise/summary.py",
    "host/exercise/report.py",
    "calibration/model.py",
    "calibration/procedures.py",
)
FORBIDDEN_IN_PURE = (
    "asyncio",
    "bleak",
    "bleak_retry_connector",
    "dbus_fast",
    "serial",
    "serial_asyncio",
    "PyQt6",
    "pyqtgraph",
    "host.engine",
    "host.link",
    "host.gui",
    "host.transports",
    "device_sim",
)
ALLOWED_IN_PURE = ("host.transports.base",)
WALL_CLOCK = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "monotonic_ns"),
    ("time", "perf_counter"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}


def pure_modules() -> list[Path]:
    found = {p for pattern in PURE_PATTERNS for p in ROOT.glob(pattern)}
    return sorted(found)


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(tree: ast.AST, module: str) -> list[tuple[int, list[str]]]:
    """Per import statement: its line and the full names it imports.

    ``import a.b`` gives ``a.b``; ``from a import b, c`` gives ``a.b`` and ``a.c`` (``b`` may be
    a module or a name in ``a``; either way the statement depends on ``a``). Relative imports
    are resolved against ``module``'s package.
    """
    package = module.rsplit(".", 1)[0]
    found: list[tuple[int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.append((node.lineno, [alias.name for alias in node.names]))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, [f"{base}.{alias.name}" for alias in node.names]))
    return found


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layering_violations(source: str, module: str) -> list[str]:
    """Forbidden imports and wall-clock reads in the source of a pure module."""
    tree = ast.parse(source)
    problems = []
    for line, names in imported_modules(tree, module):
        bad = [
            n for n in names if _matches(n, FORBIDDEN_IN_PURE) and not _matches(n, ALLOWED_IN_PURE)
        ]
        if bad:
            problems.append(f"{module}:{line} imports {bad[0]}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in WALL_CLOCK
        ):
            clock = f"{node.value.id}.{node.attr}"
            problems.append(f"{module}:{node.lineno} reads the wall clock ({clock})")
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            for alias in node.names:
                if (node.module, alias.name) in WALL_CLOCK:
                    problems.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
    return problems


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_nothing_impure(path: Path) -> None:
    problems = layering_violations(path.read_text(encoding="utf-8"), _module_of(path))
    assert problems == [], "pure modules must stay pure (docs/architecture.md, Layering)"


def test_the_core_pure_modules_are_checked() -> None:
    names = {str(p.relative_to(ROOT)) for p in pure_modules()}
    assert {"host/protocol.py", "host/samples.py", "host/csvio.py"} <= names


def test_host_never_imports_the_simulator() -> None:
    problems = []
    for path in sorted((ROOT / "host").rglob("*.py")):
        module = _module_of(path)
        for line, names in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module):
            problems += [
                f"{module}:{line} imports {n}" for n in names if _matches(n, ("device_sim",))
            ]
    assert problems == [], "host reaches device_sim only through the transport registry string"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import asyncio", ["imports asyncio"]),
        ("import os, asyncio.events", ["imports asyncio.events"]),
        ("from bleak import BleakClient, BleakScanner", ["imports bleak.BleakClient"]),
        ("import serial.tools", ["imports serial.tools"]),
        ("from PyQt6.QtCore import QTimer", ["imports PyQt6.QtCore"]),
        ("from host.transports import ble", ["imports host.transports.ble"]),
        ("import host.transports", ["imports host.transports"]),
        ("from host import engine", ["imports host.engine"]),
        ("from host.transports.base import Channel", []),
        ("from host.transports import base", []),
        ("from ..gui import bridge", ["imports host.gui"]),
        ("from .. import engine", ["imports host.engine"]),
        ("from . import engine", []),  # host.fusion.engine is not the engine
        ("import device_sim.firmware", ["imports device_sim.firmware"]),
        ("import time\nx = time.monotonic()", ["reads the wall clock"]),
        ("from datetime import datetime\nx = datetime.now()", ["reads the wall clock"]),
        ("from time import perf_counter", ["imports time.perf_counter"]),
        ("import numpy as np\nfrom host.errors import InputDataError", []),
    ],
)
def test_the_checker_itself(source: str, expected: list[str]) -> None:
    """The rules catch what they should (so a passing layering test means something)."""
    problems = layering_violations(source, "host.fusion.somemodule")
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem
