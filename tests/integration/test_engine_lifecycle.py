"""The live engine's lifecycle: stop races, failing listeners, recording on error paths."""

from __future__ import annotations

import asyncio

from host.engine import Engine, EngineConfig, EngineListener, LiveUpdate
from host.transports.base import LinkEvent, LinkState

FAST = "sim:desk_day?seed=1&speed=20"


class Counter(EngineListener):
    def __init__(self) -> None:
        self.updates = 0
        self.links: list[LinkEvent] = []
        self.errors: list[str] = []

    def on_update(self, update: LiveUpdate) -> None:
        self.updates += 1

    def on_link(self, event: LinkEvent) -> None:
        self.links.append(event)

    def on_error(self, message: str) -> None:
        self.errors.append(message)


class Exploding(EngineListener):
    def on_update(self, update: LiveUpdate) -> None:
        raise RuntimeError("listener bug")

    def on_link(self, event: LinkEvent) -> None:
        raise RuntimeError("listener bug")


async def test_a_failing_listener_does_not_stop_the_engine_or_the_others() -> None:
    counter = Counter()
    engine = Engine(EngineConfig(device=FAST, haptics=False), [Exploding(), counter])
    await asyncio.wait_for(engine.run(1.0), timeout=5.0)
    assert counter.updates > 5, "the good listener kept receiving after the bad one raised"
    assert counter.links[-1].state is LinkState.CLOSED
