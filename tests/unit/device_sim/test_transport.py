"""SimChannel through host.transports.base.open_channel: the Channel contract plus faults."""

from __future__ import annotations

import asyncio
import time

import pytest

from device_sim.transport import SimChannel
from host.errors import ConfigError, ConnectError, DisconnectedError
from host.protocol import (
    LIVE_ONLY,
    Command,
    ConfigMessage,
    DataPacket,
    Message,
    Opcode,
    Response,
    Result,
    encode_message,
)
from host.samples import SampleAssembler
from host.transports.base import Channel, open_channel


def sim(device: str) -> SimChannel:
    channel = open_channel(device)
    assert isinstance(channel, SimChannel)
    assert isinstance(channel, Channel)
    return channel


async def handshake(
    channel: SimChannel, from_seq: int = LIVE_ONLY
) -> tuple[ConfigMessage, Response]:
    await channel.send(encode_message(Command(Opcode.GET_CONFIG, (), 1)))
    config = next(m for m in await channel.receive() if isinstance(m, ConfigMessage))
    await channel.send(encode_message(Command(Opcode.START, (from_seq,), 2)))
    response = next(m for m in await channel.receive() if isinstance(m, Response))
    return config, response


async def drain(channel: SimChannel, asm: SampleAssembler) -> None:
    """Receive until the channel raises."""
    while True:
        for m in await channel.receive():
            if isinstance(m, DataPacket):
                asm.push(m)


async def stream(channel: SimChannel, asm: SampleAssembler, until_s: float) -> int:
    """Feed data into the assembler until simulated time ``until_s``; count link losses."""
    losses = 0
    while channel.device.t_s < until_s:
        try:
            messages: list[Message] = await channel.receive()
        except DisconnectedError:
            losses += 1
            while True:
                try:
                    await channel.connect()
                    break
                except ConnectError as exc:
                    if not exc.transient:
                        raise
            await handshake(channel, asm.next_seq if asm.next_seq is not None else LIVE_ONLY)
            continue
        for m in messages:
            if isinstance(m, DataPacket):
                asm.push(m)
    return losses


async def test_open_connect_stream_and_disconnect() -> None:
    channel = sim("sim:upright_sitting?speed=0&seed=4")
    assert "upright_sitting" in channel.description
    info = await channel.connect()
    assert info.name.startswith("PostureSim-")
    assert info.transport == "sim"
    config, response = await handshake(channel)
    assert response.result is Result.OK
    asm = SampleAssembler(config)
    assert await stream(channel, asm, 60.0) == 0
    assert asm.statistics.samples >= 5990
    assert asm.statistics.missing_samples == 0
    stats = channel.statistics()
    assert stats["data_packets"] == asm.statistics.packets
    await channel.disconnect()
    await channel.disconnect()  # idempotent
    with pytest.raises(DisconnectedError):
        await channel.send(encode_message(Command(Opcode.STOP)))


async def test_link_losses_are_replayed_without_missing_samples() -> None:
    channel = sim("sim:walking?speed=0&link_loss_every=30&link_loss_for=3")
    await channel.connect()
    config, _ = await handshake(channel)
    asm = SampleAssembler(config)
    losses = await stream(channel, asm, 290.0)
    assert losses == 9
    assert asm.statistics.missing_samples == 0
    assert asm.statistics.replayed_samples >= 9 * 300
    stats = channel.statistics()
    assert stats["link_losses"] == 9
    assert stats["connect_failures"] >= 9 * 2  # each 3 s outage refuses ≥ 2 one-second attempts


async def test_disappearing_device_refuses_connections_until_it_is_back() -> None:
    channel = sim("sim:upright_sitting?speed=0&disappear_after=20&disappear_for=10")
    await channel.connect()
    config, _ = await handshake(channel)
    asm = SampleAssembler(config)
    with pytest.raises(DisconnectedError):
        await drain(channel, asm)
    assert channel.device.t_s == pytest.approx(20.0)
    transient: list[bool] = []
    while True:
        try:
            await channel.connect()
            break
        except ConnectError as exc:
            transient.append(exc.transient)
    assert transient == [True] * 10
    _, response = await handshake(channel, asm.next_seq)  # type: ignore[arg-type]
    assert response.result is Result.OK
    assert response.values()[1] >= 1000  # the 10 s outage comes back as replay


async def test_refused_connections() -> None:
    channel = sim("sim:guided?speed=0&refuse=1")
    for _ in range(3):
        with pytest.raises(ConnectError, match="refused"):
            await channel.connect()
    assert channel.statistics()["connect_failures"] == 3


async def test_corrupted_frames_are_detected_and_counted() -> None:
    channel = sim("sim:upright_sitting?speed=0&corrupt=0.05&seed=2")
    await channel.connect()
    # the handshake may itself be hit by corruption: retry until both answers arrive
    config = None
    while config is None:
        await channel.send(encode_message(Command(Opcode.GET_CONFIG, (), 1)))
        config = next((m for m in await channel.receive() if isinstance(m, ConfigMessage)), None)
    await channel.send(encode_message(Command(Opcode.START, (LIVE_ONLY,), 2)))
    asm = SampleAssembler(config)
    await stream(channel, asm, 60.0)
    stats = channel.statistics()
    assert stats["decode_errors"] > 20
    assert asm.statistics.gaps > 10  # corrupted data packets never reach the host


async def test_scenario_end_is_a_permanent_disconnect() -> None:
    channel = sim("sim:standing?speed=0&minutes=0.5")
    await channel.connect()
    config, _ = await handshake(channel)
    asm = SampleAssembler(config)
    with pytest.raises(DisconnectedError) as info:
        await drain(channel, asm)
    assert not info.value.transient
    assert asm.statistics.samples >= 2990
    with pytest.raises(ConnectError) as connect_info:
        await channel.connect()
    assert not connect_info.value.transient


async def test_speed_paces_against_the_event_loop_clock() -> None:
    channel = sim("sim:upright_sitting?speed=20")
    await channel.connect()
    config, _ = await handshake(channel)
    asm = SampleAssembler(config)
    start = time.monotonic()
    await stream(channel, asm, 10.0)  # 10 simulated seconds at 20x: 0.5 s of wall time
    elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 1.5
    assert 950 <= asm.statistics.samples <= 1010


async def test_request_pose_passes_through() -> None:
    channel = sim("sim:guided?speed=0")
    await channel.connect()
    config, _ = await handshake(channel)
    asm = SampleAssembler(config)
    await stream(channel, asm, 20.0)
    channel.request_pose("forward_bend")
    await stream(channel, asm, 25.0)
    assert channel.device.truth_until().flexion_deg[-1] == pytest.approx(35.0, abs=1e-6)
    with pytest.raises(ConfigError):
        channel.request_pose("cartwheel")


async def test_idle_receive_waits_for_a_command() -> None:
    channel = sim("sim:guided?speed=0")
    await channel.connect()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await channel.receive()  # not streaming, nothing asked: nothing to say


@pytest.mark.parametrize(
    "device",
    [
        "sim:no_such_scenario",
        "sim:desk_day?rate=5",
        "sim:desk_day?speed=-1",
        "sim:desk_day?gyro=maybe",
        "sim:desk_day?mount=sideways",
        "sim:desk_day?packing=99",
        "sim:desk_day?seed=1.5",
        "sim:desk_day?colour=blue",
        "sim:desk_day?drop=2",
    ],
)
def test_bad_options_are_config_errors(device: str) -> None:
    with pytest.raises(ConfigError):
        open_channel(device)


def test_options_reach_the_device() -> None:
    channel = sim("sim:walking?seed=5&rate=50&gyro=0&mount=random&packing=10&buffer=5000")
    config = channel.device.config()
    assert (config.rate_hz, config.has_gyro, config.samples_per_packet) == (50, False, 10)
    assert config.buffer_capacity == 5000
    assert channel.device.seed == 5
    assert channel.speed == 1.0


async def test_idle_virtual_time_does_not_race_to_the_next_fault() -> None:
    channel = sim("sim:upright_sitting?speed=0&link_loss_every=60&link_loss_for=2")
    await channel.connect()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await channel.receive()
    assert channel.device.t_s == 0.0  # nothing was due, so no simulated time passed


async def test_sensor_link_over_the_sim_channel_loses_nothing() -> None:
    import random

    from host.link import SensorLink
    from host.samples import Gap, SampleBlock

    link = SensorLink(
        "sim:walking?speed=0&link_loss_every=45&link_loss_for=2",
        backoff_initial_s=0.001,
        backoff_max_s=0.01,
        rng=random.Random(1),
    )
    samples, gaps = 0, 0
    async with link:
        async for item in link.stream():
            if isinstance(item, SampleBlock):
                samples += len(item)
            elif isinstance(item, Gap):
                gaps += 1
            if samples >= 200 * 100:
                break
    stats = link.statistics()
    assert gaps == 0
    assert stats.missing_samples == 0
    assert stats.link_losses >= 3
    assert stats.replayed > 0
