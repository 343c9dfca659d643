"""Supervision of one sensor link: the single place that reconnects, handshakes and watches.

:class:`SensorLink` wraps any :class:`~host.transports.base.Channel` (BLE, serial, the in-process
simulator, a replayed file) and turns it into one ordered stream of decoded samples that
survives link loss::

    async with SensorLink("ble:name=PostureSim-1A2B") as link:
        async for item in link.stream():
            ...  # SampleBlock | LinkEvent | StatusMessage | Gap

Behaviour (docs/links.md has the user-facing version):

* **Reconnect forever** with exponential backoff and jitter; each attempt calls
  ``channel.connect()`` again, which re-scans on BLE (a stale BLEDevice fails on BlueZ, bleak
  #676). Only a non-transient :class:`~host.errors.ConnectError` (Bluetooth off) ends the stream.
* **Handshake on every connect**, assuming no state survived: GET_CONFIG, TIME_SYNC, then
  START from the next expected sequence number, so the device replays what it buffered while
  the link was down and the decoded stream has no holes. Without replay the outage shows up as
  a :class:`~host.samples.Gap` of exactly the missing samples.
* **Data watchdog**: no DATA for ``watchdog_periods`` packet periods (at least 1 s) while
  connected forces a disconnect and a reconnect (silent stalls, bleak #454).
* **Timestamps** come from the device's sequence and tick counters only (BLE delivers bursts,
  host arrival times would be wrong); host time is used for latency statistics only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import numpy as np

from host.errors import (
    ConnectError,
    DisconnectedError,
    PostureError,
    TransportError,
    TransportTimeoutError,
)
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
    encode_message,
)
from host.samples import Gap, SampleAssembler, SampleBlock, StreamStatistics
from host.transports.base import Channel, DeviceInfo, DeviceUri, LinkEvent, LinkState, open_channel

__all__ = ["VIBRATE_TIMING", "DeviceRestarted", "LinkItem", "LinkStatistics", "SensorLink"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceRestarted:
    """The sensor restarted (its sample counter went back): yielded after the CONNECTED event.

    The host axes go on (``t_s`` is where the new stream starts); samples the sensor took
    before the restart and had not sent are lost.
    """

    t_s: float
    detail: str


LinkItem = SampleBlock | LinkEvent | StatusMessage | Gap | DeviceRestarted
_T = TypeVar("_T")

# pattern -> (repeat, on_ms, off_ms); durations from docs/protocol.md (VIBRATE).
VIBRATE_TIMING: dict[VibratePattern, tuple[int, int, int]] = {
    VibratePattern.GENTLE: (2, 150, 150),
    VibratePattern.STRONG: (3, 150, 150),
    VibratePattern.NUDGE: (1, 400, 0),
    VibratePattern.CONFIRM: (1, 80, 0),
}

_MIN_WATCHDOG_S = 1.0
_CONFIG_TIMEOUT_S = 2.0
_QUEUE_LIMIT = 50_000  # messages between reader and consumer (~8 min of 100 Hz in 5-packs)
_LATENCY_WINDOW = 20_000
_MAX_PLAUSIBLE_LATENCY_S = 5.0  # beyond this the device clock is not real time (sim speed != 1)


@dataclass(frozen=True, slots=True)
class LinkStatistics:
    """A snapshot of link health since the :class:`SensorLink` was created.

    Attributes:
        packets: data packets decoded (including pure duplicates).
        samples: new samples delivered downstream.
        gaps: holes in the sequence seen by the assembler.
        missing_samples: samples in those holes (0 when every outage was replayed).
        duplicates: samples received twice (replay overlap), dropped.
        replayed: samples that arrived as replay of the device buffer.
        connects: successful connections (handshake done).
        reconnects: successful connections after the first.
        link_losses: connections that ended without the user asking.
        decode_errors: bytes/messages the channel could not decode (from channel statistics).
        watchdog_trips: reconnects forced by the data watchdog.
        queue_drops: messages dropped because the consumer fell far behind.
        stale_packets: data received before START was acknowledged (old stream), dropped.
        device_restarts: times the device's sequence counter went back (it restarted).
        latency_p50_ms: median device-tick-to-host-arrival latency of the newest sample in
            each live packet (None until measurable; needs a real-time device clock).
        latency_p99_ms: 99th percentile of the same.
        uptime_s: seconds since the first connect attempt.
        connected_s: seconds spent connected.
    """

    packets: int
    samples: int
    gaps: int
    missing_samples: int
    duplicates: int
    replayed: int
    connects: int
    reconnects: int
    link_losses: int
    decode_errors: int
    watchdog_trips: int
    queue_drops: int
    stale_packets: int
    device_restarts: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    uptime_s: float
    connected_s: float


class _Lost:
    """Queue marker: the reader saw the link die."""

    __slots__ = ("error",)

    def __init__(self, error: TransportError) -> None:
        self.error = error


class _Closing:
    """Queue marker: the user called close()."""

    __slots__ = ()


class _ClosedByUserError(Exception):
    """Internal: an await was interrupted because close() was called."""


_QueueItem = tuple[float, Message] | _Lost | _Closing


class SensorLink:
    """Supervised, self-healing connection to one sensor.

    Args:
        device: a device string (``ble:name=PostureSim-1A2B``), a parsed one, or a Channel.
        replay: after a reconnect ask the device to resend what it buffered (START from the
            next expected sequence); False starts live and reports the outage as a Gap.
        watchdog_periods: packet periods without DATA, while connected, before a forced
            reconnect (never less than 1 s).
        backoff_initial_s: first retry delay after a failed connect; doubles per failure.
        backoff_max_s: cap of the retry delay.
        first_connect_timeout_s: give up with ConnectError if the very first connection does
            not succeed within this time (None: keep trying forever).
        rng: random source of the backoff jitter (seed it in tests).

    Raises:
        ConfigError: a malformed device string.
    """

    def __init__(
        self,
        device: str | DeviceUri | Channel,
        *,
        replay: bool = True,
        watchdog_periods: float = 3.0,
        backoff_initial_s: float = 0.25,
        backoff_max_s: float = 30.0,
        first_connect_timeout_s: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._channel: Channel = (
            open_channel(device) if isinstance(device, str | DeviceUri) else device
        )
        self._replay = replay
        self._watchdog_periods = watchdog_periods
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._first_connect_timeout_s = first_connect_timeout_s
        self._rng = rng or random.Random()
        self.config: ConfigMessage | None = None
        self.info: DeviceInfo | None = None
        self.state: LinkState = LinkState.CLOSED
        self._assembler: SampleAssembler | None = None
        self._queue: asyncio.Queue[_QueueItem] = asyncio.Queue()
        self._pending: dict[int, tuple[Opcode, asyncio.Future[Response]]] = {}
        self._token = 0
        self._reader: asyncio.Task[None] | None = None
        self._link_up = False  # channel connected (handshake may still be running)
        self._accept_data = False  # START acknowledged on this connection
        self._config_event = asyncio.Event()
        self._closing = False
        self._closed_event = asyncio.Event()
        self._teardown_lock = asyncio.Lock()
        self._streaming = False
        self._sync: tuple[float, int, int] | None = None  # host monotonic s, tick, tick_hz
        self._latency_s: deque[float] = deque(maxlen=_LATENCY_WINDOW)
        self._gaps_reported = 0
        self._restarted: DeviceRestarted | None = None  # found by the handshake, not yet yielded
        self.last_error: TransportError | None = None  # why the latest connect or link failed
        self._counts = dict.fromkeys(
            (
                "connects",
                "link_losses",
                "watchdog_trips",
                "queue_drops",
                "stale_packets",
                "device_restarts",
            ),
            0,
        )
        # after a device restart: earlier assemblers' counters and the axis offsets
        self._previous: list[StreamStatistics] = []
        self._seq_offset = 0
        self._t_offset_s = 0.0
        self._last_t_s: float | None = None
        self._last_data_host_s = 0.0
        self._started_at: float | None = None
        self._connected_since: float | None = None
        self._connected_total_s = 0.0

    # ------------------------------------------------------------------ public API

    @property
    def description(self) -> str:
        """Human-readable name of the channel target."""
        return self._channel.description

    @property
    def channel(self) -> Channel:
        """The channel this link supervises (e.g. to reach a simulator's ``request_pose``)."""
        return self._channel

    async def __aenter__(self) -> SensorLink:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Disconnect on purpose; a running :meth:`stream` yields CLOSED and ends. Idempotent."""
        if self._closing:
            await self._teardown()
            return
        self._closing = True
        self._closed_event.set()
        self._queue.put_nowait(_Closing())
        await self._teardown()

    async def command(self, opcode: Opcode, *params: int, timeout_s: float = 2.0) -> Response:
        """Send a control-point command and wait for the response with the same token.

        Args:
            opcode: the operation; ``params`` follow its layout (see host.protocol.Opcode).
            timeout_s: how long to wait for the response.

        Raises:
            DisconnectedError: the link is down (or dropped while waiting).
            TransportTimeoutError: no response within ``timeout_s``.
            ProtocolError: parameters that do not fit the opcode's layout.
        """
        if not self._link_up:
            raise DisconnectedError(f"{self.description}: not connected")
        self._token = self._token % 255 + 1
        token = self._token
        payload = encode_message(Command(opcode, tuple(params), token))
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[token] = (opcode, future)
        try:
            await self._channel.send(payload)
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError as exc:
            raise TransportTimeoutError(
                f"{self.description}: no response to {opcode.name} within {timeout_s:g} s"
            ) from exc
        finally:
            self._pending.pop(token, None)

    async def vibrate(self, pattern: VibratePattern) -> bool:
        """Ask the device to vibrate; best effort.

        Returns:
            True if the device acknowledged it; False if the link is down or the device
            refused or did not answer. Never raises.
        """
        if self.state is not LinkState.CONNECTED:
            return False
        repeat, on_ms, off_ms = VIBRATE_TIMING[pattern]
        try:
            response = await self.command(Opcode.VIBRATE, int(pattern), repeat, on_ms, off_ms)
        except PostureError as exc:
            logger.info("vibrate %s not delivered: %s", pattern.name, exc)
            return False
        return response.result is Result.OK

    def statistics(self) -> LinkStatistics:
        """Counters since creation (see :class:`LinkStatistics`)."""
        now = time.monotonic()
        s = (
            _sum_statistics([*self._previous, self._assembler.statistics])
            if self._assembler
            else None
        )
        latencies = np.fromiter(self._latency_s, dtype=np.float64)
        p50 = p99 = None
        if latencies.size:
            p50 = float(np.percentile(latencies, 50) * 1e3)
            p99 = float(np.percentile(latencies, 99) * 1e3)
        connected_s = self._connected_total_s
        if self._connected_since is not None:
            connected_s += now - self._connected_since
        return LinkStatistics(
            packets=s.packets if s else 0,
            samples=s.samples if s else 0,
            gaps=s.gaps if s else 0,
            missing_samples=s.missing_samples if s else 0,
            duplicates=s.duplicate_samples if s else 0,
            replayed=s.replayed_samples if s else 0,
            connects=self._counts["connects"],
            reconnects=max(0, self._counts["connects"] - 1),
            link_losses=self._counts["link_losses"],
            decode_errors=int(self._channel.statistics().get("decode_errors", 0)),
            watchdog_trips=self._counts["watchdog_trips"],
            queue_drops=self._counts["queue_drops"],
            stale_packets=self._counts["stale_packets"],
            device_restarts=self._counts["device_restarts"],
            latency_p50_ms=p50,
            latency_p99_ms=p99,
            uptime_s=0.0 if self._started_at is None else now - self._started_at,
            connected_s=connected_s,
        )

    async def stream(self) -> AsyncIterator[LinkItem]:
        """Connect, keep connected, and yield what the sensor sends, in sequence order.

        Yields:
            LinkEvent on every state change (CONNECTING, CONNECTED, RECONNECTING with the
            reason and attempt number, CLOSED); SampleBlock for new samples; Gap before the
            block that follows a hole; StatusMessage as the device reports it.

        Raises:
            ConnectError: a permanent failure (e.g. BluetoothUnavailableError), or
                ``first_connect_timeout_s`` passed without ever connecting.
            RuntimeError: stream() is already running on this link.
        """
        if self._streaming:
            raise RuntimeError("SensorLink.stream() is already running")
        self._streaming = True
        self._started_at = time.monotonic()
        try:
            async for item in self._supervise():
                yield item
        finally:
            self._streaming = False
            await self._teardown()
            self.state = LinkState.CLOSED

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> AsyncIterator[LinkItem]:
        attempt = 1
        detail = f"connecting to {self.description}"
        while not self._closing:
            state = (
                LinkState.CONNECTING if self._counts["connects"] == 0 else LinkState.RECONNECTING
            )
            self.state = state
            yield LinkEvent(state, detail, attempt)
            try:
                await self._connect_once()
            except _ClosedByUserError:
                break
            except TransportError as exc:
                if self._closing:
                    break
                self.last_error = exc
                if not exc.transient:
                    raise
                self._check_first_connect_deadline(exc)
                delay = self._backoff_s(attempt)
                attempt += 1
                detail = f"{exc} (retrying in {delay:.1f} s)"
                logger.info("%s: connect failed: %s", self.description, detail)
                self.state = LinkState.RECONNECTING
                try:
                    await self._sleep_unless_closed(delay)
                except _ClosedByUserError:
                    break
                continue
            self.state = LinkState.CONNECTED
            self._connected_since = time.monotonic()
            yield LinkEvent(LinkState.CONNECTED, self._connected_detail(), attempt)
            if self._restarted is not None:
                restarted, self._restarted = self._restarted, None
                yield restarted
            attempt = 1
            ended: TransportError | None = None
            async for item in self._pump():
                if isinstance(item, TransportError):
                    ended = item
                    break
                yield item
            await self._teardown()
            if self._closing or ended is None:
                break
            self.last_error = ended
            if not ended.transient:  # e.g. a replayed file reached its end
                self.state = LinkState.CLOSED
                yield LinkEvent(LinkState.CLOSED, str(ended))
                return
            self._counts["link_losses"] += 1
            detail = f"link lost: {ended}"
            logger.info("%s: %s", self.description, detail)
        self.state = LinkState.CLOSED
        yield LinkEvent(LinkState.CLOSED, "closed by user")

    def _check_first_connect_deadline(self, exc: TransportError) -> None:
        if self._first_connect_timeout_s is None or self._counts["connects"] > 0:
            return
        assert self._started_at is not None  # set by stream() before supervising
        if time.monotonic() - self._started_at >= self._first_connect_timeout_s:
            raise ConnectError(
                f"could not connect to {self.description} within "
                f"{self._first_connect_timeout_s:g} s (last error: {exc}). Is the sensor "
                "charged, switched on and in range, and is the device string right? "
                "'posture scan' lists the sensors in range.",
                transient=False,
            ) from exc

    def _backoff_s(self, attempt: int) -> float:
        """Exponential backoff with jitter: 0.5..1 × min(max, initial × 2^(attempt-1))."""
        base = min(self._backoff_max_s, self._backoff_initial_s * 2.0 ** min(attempt - 1, 30))
        return base * self._rng.uniform(0.5, 1.0)

    def _connected_detail(self) -> str:
        info = self.info
        if info is None:
            return self.description
        parts = [info.name or self.description]
        if info.address and info.address != parts[0]:
            parts.append(info.address)
        if info.battery_pct is not None:
            parts.append(f"battery {info.battery_pct} %")
        return ", ".join(parts)

    async def _connect_once(self) -> None:
        """Connect the channel, start the reader and run the handshake."""
        remaining: float | None = None
        if self._first_connect_timeout_s is not None and self._counts["connects"] == 0:
            assert self._started_at is not None
            remaining = max(
                0.05, self._first_connect_timeout_s - (time.monotonic() - self._started_at)
            )
        try:
            async with asyncio.timeout(remaining):
                self.info = await self._unless_closed(self._channel.connect())
                self._link_up = True
                self._accept_data = False
                self._reader = asyncio.create_task(self._read_loop(), name="sensor-link-reader")
                await self._unless_closed(self._handshake())
        except TimeoutError as exc:
            await self._teardown()
            raise ConnectError(
                f"{self.description}: connecting took longer than {remaining:g} s"
            ) from exc
        except BaseException:
            await self._teardown()
            raise
        self._counts["connects"] += 1

    async def _handshake(self) -> None:
        self._config_event.clear()
        await self._expect_ok(Opcode.GET_CONFIG)
        try:
            async with asyncio.timeout(_CONFIG_TIMEOUT_S):
                await self._config_event.wait()
        except TimeoutError as exc:
            raise ConnectError(f"{self.description}: the device did not send its config") from exc
        config = self.config
        assert config is not None  # set together with _config_event
        if self._assembler is None:
            self._assembler = SampleAssembler(config)
        else:
            self._assembler.reconfigure(config)
        sent_s = time.monotonic()
        sync = await self._expect_ok(Opcode.TIME_SYNC, time.time_ns() // 1000)
        received_s = time.monotonic()
        values = sync.values()
        if values:
            # the device stamped the request somewhere between send and receive
            self._sync = ((sent_s + received_s) / 2.0, values[0], config.tick_hz)
        next_seq = self._assembler.next_seq
        from_seq = LIVE_ONLY if not self._replay or next_seq is None else next_seq & 0xFFFFFFFF
        start = await self.command(Opcode.START, from_seq)
        if start.result is Result.PARTIAL:
            logger.warning(
                "%s: the device no longer holds every sample since the outage; "
                "the rest is reported as a gap",
                self.description,
            )
        elif start.result is not Result.OK:
            raise ConnectError(f"{self.description}: device refused START ({start.result.name})")
        first = start.values()
        if first and next_seq is not None and _signed32(first[0] - next_seq) < 0:
            self._restart_stream(config)

    async def _expect_ok(self, opcode: Opcode, *params: int) -> Response:
        response = await self.command(opcode, *params)
        if response.result is not Result.OK:
            raise ConnectError(
                f"{self.description}: device answered {opcode.name} with {response.result.name}"
            )
        return response

    async def _pump(self) -> AsyncIterator[LinkItem | TransportError]:
        """Consume the reader's queue until the link ends; enforce the data watchdog."""
        assert self.config is not None
        assert self._assembler is not None
        last_data_s = time.monotonic()
        while True:
            cfg = self.config
            period_s = cfg.samples_per_packet / cfg.rate_hz
            watchdog_s = max(_MIN_WATCHDOG_S, self._watchdog_periods * period_s)
            wait_s = max(0.0, last_data_s + watchdog_s - time.monotonic())
            try:
                async with asyncio.timeout(wait_s):
                    item = await self._queue.get()
            except TimeoutError:
                self._counts["watchdog_trips"] += 1
                yield TransportTimeoutError(
                    f"no data for {watchdog_s:.1f} s while connected (watchdog)"
                )
                return
            if isinstance(item, _Closing):
                return
            if isinstance(item, _Lost):
                yield item.error
                return
            arrival_s, message = item
            if isinstance(message, DataPacket):
                last_data_s = time.monotonic()
                for out in self._accept_packet(message, arrival_s):
                    yield out
            elif isinstance(message, StatusMessage):
                yield message
            elif isinstance(message, ConfigMessage):
                self._assembler.reconfigure(message)

    def _restart_stream(self, config: ConfigMessage) -> None:
        """The device's sequence counter went backwards: it restarted (battery, reset).

        Its samples are a new stream; a fresh assembler decodes them and the host-side sequence
        and time axes continue where the old stream ended (plus the host time that passed), so
        nothing downstream sees time run backwards.
        """
        old = self._assembler
        assert old is not None
        self._previous.append(old.statistics)
        if old.next_seq is not None:
            self._seq_offset = old.next_seq + self._seq_offset
        if self._last_t_s is not None:
            period_s = 1.0 / config.rate_hz
            elapsed_s = time.monotonic() - self._last_data_host_s
            self._t_offset_s = self._last_t_s + max(period_s, elapsed_s)
        self._assembler = SampleAssembler(config)
        self._gaps_reported = 0
        self._counts["device_restarts"] += 1
        detail = (
            "sensor restarted (its sample counter went back); samples it took before the "
            "restart and had not sent are lost"
        )
        self._restarted = DeviceRestarted(self._t_offset_s, detail)
        logger.warning("%s: %s", self.description, detail)

    def _accept_packet(self, packet: DataPacket, arrival_s: float) -> list[LinkItem]:
        assembler = self._assembler
        assert assembler is not None
        block = assembler.push(packet)
        out: list[LinkItem] = []
        seq_off, t_off = self._seq_offset, self._t_offset_s
        while self._gaps_reported < len(assembler.gaps):
            gap = assembler.gaps[self._gaps_reported]
            if seq_off or t_off:
                gap = Gap(gap.next_seq + seq_off, gap.count, gap.t_s + t_off)
            out.append(gap)
            self._gaps_reported += 1
        if block is not None:
            if seq_off or t_off:
                seq = None if block.seq is None else block.seq + seq_off
                block = SampleBlock(block.t_s + t_off, block.accel_m_s2, block.gyro_rad_s, seq)
            out.append(block)
            self._last_t_s = float(block.t_s[-1])
            self._last_data_host_s = arrival_s
            if not packet.replayed:
                self._record_latency(packet, arrival_s)
        return out

    def _record_latency(self, packet: DataPacket, arrival_s: float) -> None:
        if self._sync is None or self.config is None:
            return
        host_ref_s, tick_ref, tick_hz = self._sync
        ticks_per_sample = tick_hz / self.config.rate_hz
        newest_tick = packet.tick + (len(packet) - 1) * ticks_per_sample
        delta = _signed32(int(newest_tick) - tick_ref)  # the tick counter wraps
        latency_s = arrival_s - (host_ref_s + delta / tick_hz)
        # outside this window the device clock does not run in real time (sim speed != 1)
        if -0.05 <= latency_s <= _MAX_PLAUSIBLE_LATENCY_S:
            self._latency_s.append(latency_s)

    # ------------------------------------------------------------------ reader task

    async def _read_loop(self) -> None:
        """Own ``channel.receive()``: answer pending commands, queue everything else."""
        try:
            while True:
                messages = await self._channel.receive()
                arrival_s = time.monotonic()
                for message in messages:
                    self._dispatch(message, arrival_s)
        except TransportError as exc:
            if not self._closing:
                self._put(_Lost(exc))
        except Exception:
            logger.exception("%s: reader failed", self.description)
            self._put(_Lost(DisconnectedError(f"{self.description}: internal reader failure")))
        finally:
            self._fail_pending(DisconnectedError(f"{self.description}: link lost"))

    def _dispatch(self, message: Message, arrival_s: float) -> None:
        if isinstance(message, Response):
            if message.opcode is Opcode.START and message.result in (Result.OK, Result.PARTIAL):
                self._accept_data = True
            opcode, future = self._pending.get(message.token, (None, None))
            # same token and opcode: a response to another command (or to an opcode of a newer
            # firmware this host never sends) answers nothing
            if future is not None and not future.done() and message.opcode == opcode:
                future.set_result(message)
            else:
                logger.debug("unmatched response %s", message)
        elif isinstance(message, ConfigMessage):
            self.config = message
            self._config_event.set()
            self._put((arrival_s, message))
        elif isinstance(message, DataPacket):
            if self._accept_data:
                self._put((arrival_s, message))
            else:
                self._counts["stale_packets"] += 1
        elif isinstance(message, StatusMessage):
            self._put((arrival_s, message))

    def _put(self, item: _QueueItem) -> None:
        if self._queue.qsize() >= _QUEUE_LIMIT:
            self._queue.get_nowait()
            self._counts["queue_drops"] += 1
        self._queue.put_nowait(item)

    def _fail_pending(self, error: TransportError) -> None:
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    # ------------------------------------------------------------------ helpers

    async def _teardown(self) -> None:
        """Stop the reader and disconnect the channel; idempotent.

        close() and the stream's own cleanup (possibly an abandoned generator being finalised
        by the loop) may both get here; the lock makes the second wait for the first, so
        close() returns only when the channel really is disconnected.
        """
        async with self._teardown_lock:
            await self._teardown_locked()

    async def _teardown_locked(self) -> None:
        self._link_up = False
        self._accept_data = False
        if self._connected_since is not None:
            self._connected_total_s += time.monotonic() - self._connected_since
            self._connected_since = None
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._fail_pending(DisconnectedError(f"{self.description}: disconnected"))
        await self._channel.disconnect()
        # a loss marker left from this connection must not end the next one
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Closing):
                self._queue.put_nowait(item)
                break

    async def _unless_closed(self, awaitable: Awaitable[_T]) -> _T:
        """Await ``awaitable`` but give up (cancelling it) as soon as close() is called."""
        task = asyncio.ensure_future(awaitable)
        closer = asyncio.ensure_future(self._closed_event.wait())
        try:
            done, _ = await asyncio.wait({task, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closer.cancel()
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if task in done:
            return task.result()
        raise _ClosedByUserError

    async def _sleep_unless_closed(self, delay_s: float) -> None:
        try:
            async with asyncio.timeout(delay_s):
                await self._closed_event.wait()
        except TimeoutError:
            return
        raise _ClosedByUserError


def _signed32(value: int) -> int:
    """A difference of wrapping u32 counters as a signed number."""
    return (value + (1 << 31)) % (1 << 32) - (1 << 31)


def _sum_statistics(parts: list[StreamStatistics]) -> StreamStatistics:
    total = StreamStatistics()
    for part in parts:
        for name in StreamStatistics.__slots__:
            setattr(total, name, getattr(total, name) + getattr(part, name))
    return total
