"""One contract for every channel: what SensorLink + channel must deliver, whatever the link.

Live kinds: ``sim`` (in process), ``serial`` (pty face), ``tcp`` (socket face) and ``ble``
(unmodified bleak through the fake BlueZ on a private D-Bus). ``replay`` joins where a recording
makes sense. Simulated time runs at 2-4× so the suite stays quick; fault schedules are in
simulated seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from link_rigs import Rig

from device_sim.faults import FaultConfig
from host.csvio import write_csv
from host.link import LinkStatistics, SensorLink
from host.protocol import StatusMessage, VibratePattern
from host.samples import Gap, SampleBlock
from host.transports.base import Channel, LinkEvent, LinkState

LIVE = ["sim", "serial", "tcp", pytest.param("ble", marks=pytest.mark.fakebluez)]
RATE_HZ = 100


@dataclass
class Run:
    blocks: list[SampleBlock] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    statuses: list[StatusMessage] = field(default_factory=list)
    stats: LinkStatistics | None = None

    @property
    def samples(self) -> SampleBlock:
        return SampleBlock.concatenate(self.blocks)

    @property
    def seq(self) -> np.ndarray:
        seq = self.samples.seq
        assert seq is not None
        return seq

    def states(self, state: LinkState) -> list[LinkEvent]:
        return [e for e in self.events if e.state is state]


async def run_link(
    channel: Channel,
    *,
    until_t_s: float,
    replay: bool = True,
    timeout_s: float = 30.0,
    during: Callable[[SensorLink, Run], object] | None = None,
) -> Run:
    """Stream until the device time of the samples reaches ``until_t_s`` (or the link ends)."""
    link = SensorLink(channel, replay=replay, backoff_initial_s=0.05, backoff_max_s=0.5,
                      rng=random.Random(0))  # fmt: skip
    run = Run()
    async with asyncio.timeout(timeout_s), link:
        async for item in link.stream():
            if isinstance(item, SampleBlock):
                run.blocks.append(item)
                if during is not None:
                    during(link, run)
                if float(item.t_s[-1]) >= until_t_s:
                    break
            elif isinstance(item, LinkEvent):
                run.events.append(item)
            elif isinstance(item, Gap):
                run.gaps.append(item)
            else:
                run.statuses.append(item)
    run.stats = link.statistics()
    return run


def assert_contiguous(run: Run) -> None:
    seq = run.seq
    np.testing.assert_array_equal(seq, np.arange(seq[0], seq[0] + len(seq)))


def assert_accounted(run: Run) -> None:
    """Every sequence number is either delivered once or inside a reported gap."""
    seq = run.seq
    assert np.all(np.diff(seq) >= 1)
    span = int(seq[-1] - seq[0] + 1)
    assert len(seq) + sum(g.count for g in run.gaps) == span


@pytest.mark.parametrize("kind", LIVE)
async def test_streams_decoded_samples(kind: str, make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(kind)
    run = await run_link(rig.channel, until_t_s=3.0)
    assert [e.state for e in run.events[:2]] == [LinkState.CONNECTING, LinkState.CONNECTED]
    assert_contiguous(run)
    samples = run.samples
    assert len(samples) >= 3 * RATE_HZ - 10
    dt = np.diff(samples.t_s)
    # device clock (with its packet-level jitter of a few µs), never host arrival time
    np.testing.assert_allclose(dt, 1.0 / RATE_HZ, atol=1e-4)
    norm = np.linalg.norm(samples.accel_m_s2, axis=1)
    assert 9.3 < float(np.median(norm)) < 10.3  # sitting still at the start of every scenario
    assert samples.gyro_rad_s is not None
    assert float(np.max(np.abs(samples.gyro_rad_s))) < 1.0
    assert run.stats is not None
    assert run.stats.gaps == 0
    assert run.stats.connects == 1


async def test_replay_plays_a_recording_to_its_end(
    make_rig: Callable[..., Rig], tmp_path: Path
) -> None:
    source = await run_link(make_rig("sim", speed=0).channel, until_t_s=6.0)
    original = source.samples
    path = tmp_path / "rec.csv"
    write_csv(path, original)
    from host.transports.base import open_channel

    run = await run_link(open_channel(f"replay:{path}?speed=0"), until_t_s=1e9)
    assert run.events[-1].state is LinkState.CLOSED
    assert "end of recording" in run.events[-1].detail
    replayed = run.samples
    assert len(replayed) == len(original)
    np.testing.assert_allclose(replayed.accel_m_s2, original.accel_m_s2, atol=2e-3)
    assert replayed.gyro_rad_s is not None
    assert original.gyro_rad_s is not None
    np.testing.assert_allclose(replayed.gyro_rad_s, original.gyro_rad_s, atol=2e-4)
    np.testing.assert_allclose(replayed.t_s, original.t_s - original.t_s[0], atol=2e-4)


async def test_replay_is_paced_by_speed(make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    source = await run_link(make_rig("sim", speed=0).channel, until_t_s=2.0)
    path = tmp_path / "rec.csv"
    write_csv(path, source.samples)
    from host.transports.base import open_channel

    loop = asyncio.get_running_loop()
    started = loop.time()
    await run_link(open_channel(f"replay:{path}?speed=4"), until_t_s=1e9)
    assert 0.4 < loop.time() - started < 1.5  # ≈ 2 s of recording at 4×


@pytest.mark.parametrize("kind", LIVE)
async def test_link_loss_with_replay_loses_nothing(kind: str, make_rig: Callable[..., Rig]) -> None:
    faults = FaultConfig(link_loss_every_s=3.0, link_loss_duration_s=0.8)
    rig = make_rig(kind, faults=faults, remove_on_disconnect=True)
    run = await run_link(rig.channel, until_t_s=7.5)
    lost = [e for e in run.states(LinkState.RECONNECTING) if e.detail.startswith("link lost")]
    assert len(lost) >= 2
    assert len(run.states(LinkState.CONNECTED)) >= 3
    assert_contiguous(run)
    assert run.stats is not None
    assert run.stats.missing_samples == 0
    assert run.stats.replayed > 0
    assert not run.gaps


@pytest.mark.parametrize("kind", LIVE)
async def test_link_loss_without_replay_reports_the_outage_as_a_gap(
    kind: str, make_rig: Callable[..., Rig]
) -> None:
    faults = FaultConfig(link_loss_every_s=3.0, link_loss_duration_s=0.8)
    rig = make_rig(kind, faults=faults)
    run = await run_link(rig.channel, until_t_s=7.5, replay=False)
    assert len(run.gaps) >= 2
    assert_accounted(run)
    for gap in run.gaps:
        # at least the outage itself; at most the outage plus reconnecting (a loaded CI box
        # may need up to ~1 s of wall time = 4 s simulated)
        assert 0.8 * RATE_HZ - 5 <= gap.count <= (0.8 + 4.0) * RATE_HZ, gap


@pytest.mark.parametrize("kind", LIVE)
async def test_a_stall_trips_the_watchdog(kind: str, make_rig: Callable[..., Rig]) -> None:
    # the watchdog waits at least 1 s of wall time: stall 3 s simulated at 2× = 1.5 s
    faults = FaultConfig(stall_every_s=4.0, stall_duration_s=3.0)
    rig = make_rig(kind, faults=faults, speed=2.0)
    run = await run_link(rig.channel, until_t_s=7.5)
    assert run.stats is not None
    assert run.stats.watchdog_trips >= 1
    assert any("watchdog" in e.detail for e in run.states(LinkState.RECONNECTING))
    assert_contiguous(run)  # what the device sampled during the stall is replayed


@pytest.mark.parametrize("kind", ["sim", "serial", "tcp"])
async def test_corrupted_bytes_are_skipped_and_counted(
    kind: str, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig(kind, faults=FaultConfig(corrupt_rate=0.05))
    run = await run_link(rig.channel, until_t_s=5.0, replay=False)
    stats = rig.channel.statistics()
    assert stats["decode_errors"] > 0
    assert run.stats is not None
    assert run.stats.decode_errors == stats["decode_errors"]
    assert_accounted(run)
    samples = run.samples
    norm = np.linalg.norm(samples.accel_m_s2, axis=1)
    assert float(np.max(np.abs(norm - np.median(norm)))) < 3.0  # no garbage got through


@pytest.mark.parametrize("kind", LIVE)
async def test_refused_connections_are_retried(kind: str, make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(kind, faults=FaultConfig(refuse_connections=True))
    loop = asyncio.get_running_loop()
    # the device stops refusing after a while; the link must still be trying by then
    handle = loop.call_later(1.0, lambda: asyncio.ensure_future(_allow(rig)))
    try:
        run = await run_link(rig.channel, until_t_s=0.5, timeout_s=30)
    finally:
        handle.cancel()
    failed = run.events[1 : run.events.index(run.states(LinkState.CONNECTED)[0])]
    assert len(failed) >= 1  # (bleak-retry-connector makes 2 tries per link attempt on BLE)
    assert [e.attempt for e in failed] == list(range(2, 2 + len(failed)))
    assert len(run.samples) > 0


async def _allow(rig: Rig) -> None:
    await asyncio.to_thread(rig.set_faults, FaultConfig())


@pytest.mark.parametrize("kind", LIVE)
async def test_the_device_reappearing_is_found_again(
    kind: str, make_rig: Callable[..., Rig]
) -> None:
    rig = make_rig(kind, faults=FaultConfig(disappear_after_s=2.0, disappear_for_s=3.0))
    run = await run_link(rig.channel, until_t_s=7.0)
    assert len(run.states(LinkState.CONNECTED)) == 2
    assert any("link lost" in e.detail for e in run.states(LinkState.RECONNECTING))
    assert_contiguous(run)  # the device buffered while away; replay fills the hole
    assert run.stats is not None
    assert run.stats.missing_samples == 0


@pytest.mark.parametrize("kind", LIVE)
async def test_vibrate_reaches_the_device(kind: str, make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(kind)
    sent: list[asyncio.Task[bool]] = []

    def buzz(link: SensorLink, run: Run) -> None:
        if not sent:
            sent.append(asyncio.ensure_future(link.vibrate(VibratePattern.NUDGE)))

    await run_link(rig.channel, until_t_s=2.0, during=buzz)
    assert await sent[0] is True
    vibrations = rig.on_device(lambda d: list(d.vibrations))
    assert [p for _, p in vibrations] == [int(VibratePattern.NUDGE)]
