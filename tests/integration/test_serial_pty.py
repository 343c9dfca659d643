"""Serial end to end: ``posture-sim serve --face serial|tcp`` in its own process, real pyserial.

Plus the channel's byte-level behaviour on a raw pty (garbage and torn frames resync and are
counted; closing the master is an unplug) and pyserial's ``loop://`` (the polled path).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import tty
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from host import protocol
from host.errors import DisconnectedError
from host.link import SensorLink
from host.protocol import Command, Opcode, StatusMessage
from host.samples import SampleBlock
from host.transports.base import LinkState, parse_device
from host.transports.serial import SerialChannel

ROOT = Path(__file__).resolve().parents[2]


async def _serve(*args: str) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "device_sim.serve", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode().strip()
        key, _, port = line.partition("=")
        assert key == "SERIAL_PORT", line
        yield port, proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 15)


async def _stream(device: str, until_t_s: float) -> tuple[SensorLink, list[object]]:
    link = SensorLink(device, backoff_initial_s=0.05, backoff_max_s=0.5, rng=random.Random(0))
    items: list[object] = []
    async with asyncio.timeout(30), link:
        async for item in link.stream():
            items.append(item)
            if isinstance(item, SampleBlock) and float(item.t_s[-1]) >= until_t_s:
                break
    return link, items


@pytest.mark.parametrize("face", ["serial", "tcp"])
async def test_served_sensor_streams_and_survives_unplugs(face: str) -> None:
    args = ["desk_day", "--face", face, "--speed", "4", "--drop-link-every", "3"]
    async for port, proc in _serve(*args, "--drop-link-for", "0.5"):
        if face == "serial":
            link_path = Path(port)
            assert link_path.is_symlink()  # noqa: ASYNC240 - a stat in a test
            assert link_path.parent.stat().st_mode & 0o777 == 0o700
        else:
            assert port.startswith("socket://127.0.0.1:")
        link, items = await _stream(f"serial:{port}", until_t_s=7.0)
        stats = link.statistics()
        assert stats.link_losses >= 2
        assert stats.missing_samples == 0
        blocks = [i for i in items if isinstance(i, SampleBlock)]
        seq = SampleBlock.concatenate(blocks).seq
        assert seq is not None
        assert list(seq) == list(range(int(seq[0]), int(seq[0]) + len(seq)))
        states = [i.state for i in items if hasattr(i, "state")]
        assert states.count(LinkState.CONNECTED) >= 3
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
        if face == "serial":
            assert not link_path.parent.exists()


@pytest.fixture
def raw_pty() -> AsyncIterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        yield master, path
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


async def test_garbage_and_torn_frames_are_skipped_and_counted(raw_pty: tuple[int, str]) -> None:
    master, path = raw_pty
    channel = SerialChannel(parse_device(f"serial:{path}"))
    await channel.connect()
    status = StatusMessage(80, False, True, False, 0, 1234)
    frame = protocol.encode_frame(status)
    corrupted = bytearray(frame)
    corrupted[6] ^= 0xFF
    # noise, a corrupted frame, a good one split in two writes, a torn sync, another good one
    os.write(master, b"\x00\xa5\x13garbage" + bytes(corrupted) + frame[:5])
    await asyncio.sleep(0.01)
    os.write(master, frame[5:] + b"\xa5" + frame)
    received: list[object] = []
    async with asyncio.timeout(5):
        while len(received) < 2:
            received += await channel.receive()
    assert received == [status, status]
    stats = channel.statistics()
    assert stats["decode_errors"] >= 1
    assert stats["bytes_skipped"] > 0
    # closing the master is an unplug: the channel reports a loss, never a silent b""
    os.close(master)
    with pytest.raises(DisconnectedError):
        async with asyncio.timeout(5):
            await channel.receive()
    await channel.disconnect()


async def test_loop_url_round_trips_commands() -> None:
    channel = SerialChannel(parse_device("serial:loop://"))
    await channel.connect()
    command = Command(Opcode.IDENTIFY, (3,), 7)
    await channel.send(protocol.encode_message(command))
    async with asyncio.timeout(5):
        assert await channel.receive() == [command]
    await channel.disconnect()
    with pytest.raises(DisconnectedError):
        await channel.send(protocol.encode_message(command))


async def test_missing_port_is_a_transient_connect_error() -> None:
    from host.errors import ConnectError

    channel = SerialChannel(parse_device("serial:/nonexistent/ttyPOSTURE"))
    with pytest.raises(ConnectError, match="plugged in") as info:
        await channel.connect()
    assert info.value.transient
