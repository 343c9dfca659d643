"""SensorLink supervision against a small scripted device channel.

The scripted device below is a test double for the *device*, not for the code under test: it
speaks the real wire protocol (host.protocol) through a real Channel-shaped object, buffers
samples while the link is down and honours START's replay request, so the supervisor's
reconnect, replay, gap, watchdog and backoff logic run for real.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from host.engine import Engine, EngineConfig, EngineListener, LiveUpdate
from host.errors import BluetoothUnavailableError, ConnectError, DisconnectedError
from host.link import DeviceRestarted, LinkStatistics, SensorLink
from host.protocol import (
    LIVE_ONLY,
    Command,
    ConfigMessage,
    DataPacket,
    Message,
    Opcode,
    Response,
    Result,
    StatusMessage,
    VibratePattern,
    decode_message,
    encode_message,
)
from host.recording.store import SessionStore
from host.samples import Gap, SampleBlock
from host.transports.base import DeviceInfo, LinkEvent, LinkState

RATE_HZ = 200
SPP = 5
TICK_HZ = 1000


class ScriptedDevice:
    """A sensor whose clock runs in real time × ``speed``; samples are numbered from 0."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self.t0 = time.monotonic()
        self.streaming = False
        self.send_from = 0
        self.stalled = False
        self.vibrations: list[tuple[int, ...]] = []
        self.skipped = 0  # samples a LIVE_ONLY start jumped over
        self.started = False

    def produced(self) -> int:
        return int((time.monotonic() - self.t0) * self.speed * RATE_HZ)

    def handle(self, command: Command) -> list[Message]:
        ok = Response(command.opcode, Result.OK, command.token)
        if command.opcode is Opcode.GET_CONFIG:
            config = ConfigMessage(True, self.streaming, SPP, RATE_HZ, TICK_HZ, 0.001, 0.001,
                                   4, 500, 60_000)  # fmt: skip
            return [ok, config]
        if command.opcode is Opcode.TIME_SYNC:
            tick = int(self.produced() * TICK_HZ / RATE_HZ)
            return [Response(command.opcode, Result.OK, command.token, struct.pack("<I", tick))]
        if command.opcode is Opcode.START:
            (from_seq,) = command.params
            now = self.produced() // SPP * SPP
            if not self.started:  # the sensor's clock starts with the first START
                self.t0 = time.monotonic()
                now = 0
            if from_seq == LIVE_ONLY:
                self.skipped += max(0, now - self.send_from)
                self.send_from = now
            else:  # replay from what the host asks for, as far as the device has it
                self.send_from = min(from_seq, now)
            self.streaming = self.started = True
            first = struct.pack("<II", self.send_from, now - self.send_from)
            return [Response(command.opcode, Result.OK, command.token, first)]
        if command.opcode is Opcode.VIBRATE:
            self.vibrations.append(command.params)
            return [ok]
        return [Response(command.opcode, Result.UNKNOWN_OPCODE, command.token)]

    def reboot(self) -> None:
        """Power-cycle: counters and clock start again from zero."""
        self.t0 = time.monotonic()
        self.send_from = 0
        self.streaming = self.started = False

    def due_packets(self) -> list[Message]:
        if not self.streaming or self.stalled:
            return []
        out: list[Message] = []
        end = self.produced() // SPP * SPP
        while self.send_from < end and len(out) < 20:
            seq = self.send_from
            idx = np.arange(seq, seq + SPP)
            accel = np.stack([idx % 1000, np.zeros(SPP), np.full(SPP, 9800)], axis=1)
            packet = DataPacket(
                seq & 0xFFFFFFFF,
                (seq * TICK_HZ // RATE_HZ) & 0xFFFFFFFF,
                accel.astype(np.int16),
                np.zeros((SPP, 3), np.int16),
                replayed=end - seq > 2 * SPP,
            )
            out.append(packet)
            self.send_from += SPP
        return out


class ScriptedChannel:
    """Channel to a ScriptedDevice with knobs for faults."""

    def __init__(self, device: ScriptedDevice) -> None:
        self.device = device
        self.connected = False
        self.lost = False
        self.refuse = 0
        self.permanent = False
        self.eof_after: int | None = None
        self.connect_calls = 0
        self.mute_commands = False
        self._outbox: list[Message] = []
        self._wake = asyncio.Event()

    @property
    def description(self) -> str:
        return "scripted sensor"

    async def connect(self) -> DeviceInfo:
        self.connect_calls += 1
        await asyncio.sleep(0.001)
        if self.permanent:
            raise BluetoothUnavailableError("Bluetooth is off; switch it on")
        if self.refuse > 0:
            self.refuse -= 1
            raise ConnectError("connection refused (br-connection-page-timeout)")
        self.connected, self.lost = True, False
        return DeviceInfo("Scripted-0001", "00:00:00:00:00:01", "test", battery_pct=80)

    async def disconnect(self) -> None:
        self.connected = False
        self.device.streaming = False

    async def send(self, payload: bytes) -> None:
        if not self.connected or self.lost:
            raise DisconnectedError("not connected")
        command = decode_message(payload)
        assert isinstance(command, Command)
        if not self.mute_commands:
            self._outbox.extend(self.device.handle(command))
            self._wake.set()

    async def receive(self) -> list[Message]:
        while True:
            if self.lost or not self.connected:
                raise DisconnectedError("link lost (test)")
            out, self._outbox = self._outbox, []
            out += self.device.due_packets()
            if self.eof_after is not None and self.device.send_from >= self.eof_after:
                raise DisconnectedError("end of recording", transient=False)
            if out:
                return out
            self._wake.clear()
            try:
                async with asyncio.timeout(0.005):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def drop(self) -> None:
        """Link loss: the device stops streaming and keeps sampling into its buffer."""
        self.lost = True
        self.device.streaming = False

    def statistics(self) -> dict[str, int]:
        return {"decode_errors": 3}


def make_link(channel: ScriptedChannel, **kwargs: object) -> SensorLink:
    kwargs.setdefault("rng", random.Random(1))
    kwargs.setdefault("backoff_initial_s", 0.01)
    return SensorLink(channel, **kwargs)  # type: ignore[arg-type]


async def collect(
    link: SensorLink, until_samples: int, on_samples: dict[int, object] | None = None
) -> list[object]:
    """Iterate the stream until ``until_samples`` samples arrived; run hooks at thresholds."""
    items: list[object] = []
    n = 0
    hooks = dict(on_samples or {})
    async with asyncio.timeout(10):
        async for item in link.stream():
            items.append(item)
            if isinstance(item, SampleBlock):
                n += len(item)
                for threshold in sorted(hooks):
                    if n >= threshold:
                        hook = hooks.pop(threshold)
                        assert callable(hook)
                        hook()
                if n >= until_samples:
                    await link.close()
    return items


def samples_of(items: list[object]) -> SampleBlock:
    return SampleBlock.concatenate([i for i in items if isinstance(i, SampleBlock)])


def events(items: list[object]) -> list[LinkEvent]:
    return [i for i in items if isinstance(i, LinkEvent)]


async def test_streams_decoded_samples_in_order() -> None:
    channel = ScriptedChannel(ScriptedDevice(speed=5))
    link = make_link(channel)
    items = await collect(link, 400)
    states = [e.state for e in events(items)]
    assert states[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]
    assert states[-1] is LinkState.CLOSED
    block = samples_of(items)
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(len(block)))
    np.testing.assert_allclose(block.t_s, np.arange(len(block)) / RATE_HZ)
    np.testing.assert_allclose(block.accel_m_s2[:, 0], (np.arange(len(block)) % 1000) * 0.001)
    stats = link.statistics()
    assert isinstance(stats, LinkStatistics)
    assert stats.samples == len(block)
    assert stats.gaps == 0
    assert stats.decode_errors == 3
    assert stats.connects == 1
    assert link.config is not None
    assert link.config.rate_hz == RATE_HZ
    assert link.info is not None
    assert link.info.name == "Scripted-0001"
    assert link.state is LinkState.CLOSED


async def test_link_loss_with_replay_loses_nothing() -> None:
    channel = ScriptedChannel(ScriptedDevice(speed=5))
    link = make_link(channel)
    items = await collect(link, 1500, {300: channel.drop, 900: channel.drop})
    block = samples_of(items)
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(len(block)))
    assert not [i for i in items if isinstance(i, Gap)]
    reconnecting = [e for e in events(items) if e.state is LinkState.RECONNECTING]
    assert len(reconnecting) == 2
    assert all("link lost" in e.detail for e in reconnecting)
    stats = link.statistics()
    assert stats.link_losses == 2
    assert stats.reconnects == 2
    assert stats.missing_samples == 0


async def test_link_loss_without_replay_reports_the_outage_as_a_gap() -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    link = make_link(channel, replay=False)

    def drop_and_wait() -> None:
        channel.drop()
        channel.refuse = 3  # keep it down for a few backoff rounds so samples are skipped

    items = await collect(link, 1200, {300: drop_and_wait})
    gaps = [i for i in items if isinstance(i, Gap)]
    assert len(gaps) == 1
    assert device.skipped > 0
    assert gaps[0].count == device.skipped
    block = samples_of(items)
    assert block.seq is not None
    assert np.all(np.diff(block.seq) >= 1)
    assert int(block.seq[-1]) + 1 - int(block.seq[0]) - len(block) == device.skipped


async def test_a_stall_trips_the_watchdog_and_reconnects() -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    link = make_link(channel)

    def stall() -> None:
        device.stalled = True
        asyncio.get_running_loop().call_later(1.3, setattr, device, "stalled", False)

    started = time.monotonic()
    items = await collect(link, 600, {200: stall})
    assert time.monotonic() - started >= 1.0  # the watchdog's 1 s floor
    stats = link.statistics()
    assert stats.watchdog_trips >= 1
    assert any("watchdog" in e.detail for e in events(items))
    block = samples_of(items)
    assert block.seq is not None
    np.testing.assert_array_equal(block.seq, np.arange(len(block)))


async def test_refused_connections_are_retried_with_growing_attempts() -> None:
    channel = ScriptedChannel(ScriptedDevice(speed=5))
    channel.refuse = 4
    link = make_link(channel)
    items = await collect(link, 100)
    attempts = [e.attempt for e in events(items) if e.state is not LinkState.CLOSED]
    assert attempts[:5] == [1, 2, 3, 4, 5]
    assert "refused" in events(items)[1].detail
    assert channel.connect_calls == 5
    assert link.statistics().connects == 1


async def test_permanent_errors_end_the_stream() -> None:
    channel = ScriptedChannel(ScriptedDevice())
    channel.permanent = True
    link = make_link(channel)
    with pytest.raises(BluetoothUnavailableError):
        await collect(link, 10)
    assert channel.connect_calls == 1


async def test_first_connect_timeout_gives_advice() -> None:
    channel = ScriptedChannel(ScriptedDevice())
    channel.refuse = 10_000
    link = make_link(channel, first_connect_timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(ConnectError, match="charged") as info:
        await collect(link, 10)
    assert not info.value.transient
    assert 0.3 <= time.monotonic() - started < 2.0


async def test_end_of_stream_closes_with_the_reason() -> None:
    channel = ScriptedChannel(ScriptedDevice(speed=10))
    channel.eof_after = 200
    link = make_link(channel)
    items = await collect(link, 10_000)
    last = events(items)[-1]
    assert last.state is LinkState.CLOSED
    assert "end of recording" in last.detail
    assert link.statistics().link_losses == 0


async def test_vibrate_and_commands() -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    link = make_link(channel)
    assert await link.vibrate(VibratePattern.GENTLE) is False  # not connected yet
    results: list[bool] = []

    async def buzz() -> None:
        results.append(await link.vibrate(VibratePattern.STRONG))

    tasks: list[asyncio.Task[None]] = []
    await collect(link, 200, {50: lambda: tasks.append(asyncio.create_task(buzz()))})
    await asyncio.gather(*tasks)
    assert results == [True]
    assert device.vibrations == [(int(VibratePattern.STRONG), 3, 150, 150)]
    assert await link.vibrate(VibratePattern.GENTLE) is False  # closed


class NewerFirmwareChannel(ScriptedChannel):
    """Before each real answer, also sends a response to an opcode this host does not know."""

    async def send(self, payload: bytes) -> None:
        command = decode_message(payload)
        assert isinstance(command, Command)
        extra = encode_message(Response(0x7E, Result.BUSY, command.token))
        self._outbox.append(decode_message(extra))  # decodes: the opcode stays a number
        await super().send(payload)


async def test_responses_to_unknown_opcodes_answer_no_command() -> None:
    device = ScriptedDevice(speed=5)
    link = make_link(NewerFirmwareChannel(device))
    results: list[bool] = []

    async def buzz() -> None:
        results.append(await link.vibrate(VibratePattern.STRONG))

    tasks: list[asyncio.Task[None]] = []
    items = await collect(link, 200, {50: lambda: tasks.append(asyncio.create_task(buzz()))})
    await asyncio.gather(*tasks)
    assert results == [True]  # the real VIBRATE answer, not the stray BUSY with the same token
    assert samples_of(items).seq is not None


async def test_command_times_out_without_response() -> None:
    channel = ScriptedChannel(ScriptedDevice(speed=5))
    link = make_link(channel, first_connect_timeout_s=0.5)
    channel.mute_commands = True
    with pytest.raises(ConnectError):
        await collect(link, 10)


async def test_close_from_another_task_during_backoff() -> None:
    channel = ScriptedChannel(ScriptedDevice())
    channel.refuse = 10_000
    link = SensorLink(channel, backoff_initial_s=5.0, rng=random.Random(0))
    items: list[object] = []

    async def consume() -> None:
        async for item in link.stream():
            items.append(item)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await link.close()
    async with asyncio.timeout(2):
        await task
    assert time.monotonic() - started < 1.0
    assert events(items)[-1] == LinkEvent(LinkState.CLOSED, "closed by user")


async def test_status_messages_pass_through() -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    link = make_link(channel)
    status = StatusMessage(77, False, True, False, 0, 0)

    def inject() -> None:
        channel._outbox.append(status)

    items = await collect(link, 300, {100: inject})
    assert status in items


async def test_a_restarted_device_continues_the_host_axes() -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    link = make_link(channel)

    def reboot() -> None:
        channel.drop()
        device.reboot()

    items = await collect(link, 900, {400: reboot})
    block = samples_of(items)
    assert block.seq is not None
    assert np.all(np.diff(block.seq) >= 1)  # no sequence number twice, none going back
    assert np.all(np.diff(block.t_s) > 0)  # time never runs backwards
    stats = link.statistics()
    assert stats.device_restarts == 1
    assert stats.samples == len(block)
    assert stats.duplicates == 0
    # ... and it is told, once, right after the reconnect, at the time the new stream starts
    [restart] = [i for i in items if isinstance(i, DeviceRestarted)]
    at = items.index(restart)
    connected = items[at - 1]
    assert isinstance(connected, LinkEvent)
    assert connected.state is LinkState.CONNECTED
    before = samples_of(items[:at])
    after = samples_of(items[at:])
    assert before.t_s[-1] < restart.t_s <= after.t_s[0]
    assert "restarted" in restart.detail


async def test_the_engine_announces_and_records_a_sensor_restart(tmp_path: Path) -> None:
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    notices: list[str] = []

    class Notices(EngineListener):
        def on_notice(self, message: str) -> None:
            notices.append(message)
            engine.stop()

        def on_update(self, update: LiveUpdate) -> None:
            if engine.samples_processed >= 300 and not (notices or channel.lost):
                channel.drop()
                device.reboot()

    db = tmp_path / "s.sqlite3"
    engine = Engine(EngineConfig("sim:desk_day", record=True, db_path=db), [Notices()])
    engine.link = make_link(channel)
    await asyncio.wait_for(engine.run(), timeout=10.0)
    assert len(notices) == 1
    assert "sensor restarted" in notices[0]
    assert engine.session_id is not None
    with SessionStore.open(db) as store:
        [event] = store.events(engine.session_id, "restart")
    assert "sensor restarted" in str(event.data["detail"])
    assert event.t_s > 300 / RATE_HZ


async def test_an_engine_capture_never_spans_a_gap() -> None:
    """Without replay an outage is a hole in the stream: a capture restarts after it."""
    device = ScriptedDevice(speed=5)
    channel = ScriptedChannel(device)
    dropped: list[int] = []

    class DropOnce(EngineListener):
        def on_update(self, update: LiveUpdate) -> None:
            if engine.samples_processed >= 200 and not dropped:
                dropped.append(engine.samples_processed)
                channel.drop()

    engine = Engine(EngineConfig("sim:desk_day", replay=False), [DropOnce()])
    engine.link = make_link(channel, replay=False)

    async def capture_then_stop() -> SampleBlock:
        try:
            return await engine.capture(2.0)  # 400 samples; the drop comes after ~200
        finally:
            engine.stop()

    runner = asyncio.create_task(engine.run())
    block = await asyncio.wait_for(capture_then_stop(), timeout=10.0)
    await runner
    assert dropped
    assert engine.link.statistics().missing_samples > 0  # there was a hole in the stream
    assert len(block) >= 400
    assert np.allclose(np.diff(block.t_s), 1.0 / RATE_HZ)  # but not in the capture
    assert block.seq is not None
    assert np.all(np.diff(block.seq) == 1)


def test_backoff_grows_and_is_capped() -> None:
    link = SensorLink(
        ScriptedChannel(ScriptedDevice()),
        backoff_initial_s=0.25,
        backoff_max_s=30.0,
        rng=random.Random(3),
    )
    delays = [link._backoff_s(n) for n in range(1, 40)]
    assert 0.125 <= delays[0] <= 0.25
    assert all(d <= 30.0 for d in delays)
    assert delays[20] >= 15.0
    assert len(set(delays)) == len(delays)  # jittered


def test_encoded_commands_round_trip_for_the_double() -> None:
    # guards the test double itself: it must speak the real protocol
    payload = encode_message(Command(Opcode.START, (LIVE_ONLY,), 9))
    assert decode_message(payload) == Command(Opcode.START, (LIVE_ONLY,), 9)
