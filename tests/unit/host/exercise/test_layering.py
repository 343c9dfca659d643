"""The exercise coach's pure modules stay pure (no I/O stacks, no clock), and host never
imports the simulator (the shared layering test does not list these modules)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[4]
PURE = ["signals", "counting", "scoring", "coach", "rom", "adherence", "summary"]
FORBIDDEN = (
    "asyncio", "sqlite3", "socket", "bleak", "serial", "PyQt6", "pyqtgraph", "host.engine",
    "host.link", "host.gui", "host.transports", "host.recording", "device_sim", "platformdirs",
)  # fmt: skip
CLOCK = {("time", "time"), ("time", "monotonic"), ("datetime", "now"), ("date", "today")}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_module(module: str) -> None:
    tree = ast.parse((ROOT / "host" / "exercise" / f"{module}.py").read_text())
    for name in _imports(tree):
        assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in CLOCK, f"{module}: {node.value.id}.{node.attr}"
        assert not (isinstance(node, ast.Name) and node.id == "open"), module


def test_host_exercise_never_imports_the_simulator() -> None:
    for path in (ROOT / "host").rglob("*.py"):
        if "exercise" in path.parts or path.name in ("exercise.py", "rom.py", "program.py"):
            names = _imports(ast.parse(path.read_text()))
            assert not any(n.startswith("device_sim") for n in names), path
