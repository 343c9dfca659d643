"""GUI tests: offscreen Qt (root conftest), helpers to build posture updates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from host.posture import Activity, PostureBlock, Zone


@dataclass(frozen=True)
class Update:
    """Shape of host.engine.LiveUpdate, built from a real PostureBlock."""

    posture: PostureBlock
    seconds_to_alert: float | None


def make_update(
    t0_s: float,
    n: int,
    flexion_deg: float,
    zone: Zone,
    rate_hz: float = 100.0,
    seconds_to_alert: float | None = None,
) -> Update:
    t_s = t0_s + np.arange(n) / rate_hz
    block = PostureBlock(
        t_s=t_s,
        flexion_deg=np.full(n, flexion_deg),
        lateral_deg=np.full(n, -2.0),
        zone=np.full(n, int(zone), dtype=np.int8),
        activity=np.full(n, int(Activity.SITTING), dtype=np.int8),
        dwell_s=np.linspace(0.0, n / rate_hz, n),
        confidence=np.ones(n),
    )
    return Update(block, seconds_to_alert)


UpdateFactory = Callable[..., Update]


@pytest.fixture
def update_factory() -> UpdateFactory:
    """:func:`make_update`, for tests that feed the bridge as the engine thread would."""
    return make_update


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/gui/" in str(item.fspath):
            item.add_marker(pytest.mark.gui)
