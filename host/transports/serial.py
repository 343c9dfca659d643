"""Serial channel on pyserial: device paths and pyserial URLs, framed messages.

Device strings::

    serial:/dev/ttyACM0                  a USB CDC or UART port (baud via ?baud=N, default 115200)
    serial:socket://127.0.0.1:5555       a TCP byte stream (e.g. posture-sim serve --face tcp)
    serial:loop://                       pyserial's loopback, for tests

Ports are opened with ``serial.serial_for_url`` in non-blocking mode and read from the event
loop's reader callback (``add_reader`` on the port's file descriptor; ports without one, such as
``loop://``, are polled). Pitfalls handled (notes/ble.md §5):

* opening flushes the input buffer, so frames sent before the open are lost: the stream resyncs
  on the sync bytes (:class:`host.protocol.FrameDecoder`) and the link's handshake asks for what
  it needs;
* ``socket://`` ``read(n)`` waits for n bytes and drops them all if the peer closes meanwhile:
  we only ever read ``in_waiting or 1`` bytes;
* an unplugged device (or a closed pty master) surfaces as ``SerialException`` ("readiness to
  read but returned no data"), never as ``b""``: it becomes :class:`DisconnectedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
from collections import deque

import serial

from host import protocol
from host.errors import ConfigError, ConnectError, DisconnectedError
from host.protocol import FrameDecoder, Message
from host.transports.base import DeviceInfo, DeviceUri

__all__ = ["SerialChannel", "open_serial_channel"]

logger = logging.getLogger(__name__)

_POLL_S = 0.002  # only for ports without a file descriptor (loop://)
_UNPLUGGED_ADVICE = "is the sensor plugged in (and the simulator running)?"


def open_serial_channel(uri: DeviceUri) -> SerialChannel:
    """Factory registered for the ``serial:`` scheme (see host.transports.base.SCHEMES)."""
    return SerialChannel(uri)


class SerialChannel:
    """A :class:`~host.transports.base.Channel` over a serial port or pyserial URL.

    Args:
        uri: ``serial:`` device string; option ``baud`` (default 115200).
        queue_limit: decoded messages buffered before the oldest is dropped (counted).

    Raises:
        ConfigError: the device string names no port.
    """

    def __init__(self, uri: DeviceUri, *, queue_limit: int = 8192) -> None:
        if not uri.target:  # a bad device string: usage, not a device failure (exit 2)
            raise ConfigError(
                "serial: needs a port, e.g. serial:/dev/ttyACM0 or serial:socket://127.0.0.1:5555"
            )
        self._url = uri.target
        self._baud = int(uri.number("baud", 115_200))
        self._port: serial.SerialBase | None = None
        self._fd: int | None = None
        self._poller: asyncio.Task[None] | None = None
        self._closers: set[asyncio.Task[None]] = set()
        self._decoder = FrameDecoder()
        self._messages: deque[Message] = deque(maxlen=queue_limit)
        self._wake = asyncio.Event()
        self._lost: str | None = None
        self._dropped = 0
        self._connects = 0

    @property
    def description(self) -> str:
        return f"serial {self._url}"

    def statistics(self) -> dict[str, int]:
        s = self._decoder.statistics
        return {
            "bytes_in": s.bytes_in,
            "frames_ok": s.frames_ok,
            "decode_errors": s.bad_frames,
            "bytes_skipped": s.bytes_skipped,
            "dropped": self._dropped,
            "connects": self._connects,
        }

    async def connect(self) -> DeviceInfo:
        """Open the port.

        Raises:
            ConnectError: the port is missing or busy (transient) or not permitted (permanent).
        """
        await self.disconnect()
        try:
            port = serial.serial_for_url(
                self._url, baudrate=self._baud, timeout=0, write_timeout=1.0, exclusive=True
            )
        except ValueError as exc:  # unknown URL scheme or bad settings
            raise ConnectError(f"{self.description}: {exc}", transient=False) from exc
        except (serial.SerialException, OSError) as exc:
            raise self._open_error(exc) from exc
        port.reset_input_buffer()
        self._port = port
        self._lost = None
        self._messages.clear()
        self._decoder.reset()
        loop = asyncio.get_running_loop()
        try:
            self._fd = port.fileno()
        except (AttributeError, OSError, serial.SerialException):  # io.UnsupportedOperation
            self._fd = None
        if self._fd is not None:
            loop.add_reader(self._fd, self._on_readable)
        else:
            self._poller = asyncio.create_task(self._poll(), name="serial-poll")
        self._connects += 1
        return DeviceInfo(name=self._url, address=self._url, transport="serial")

    def _open_error(self, exc: BaseException) -> ConnectError:
        err = getattr(exc, "errno", None)
        text = str(exc)
        if err in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
            return ConnectError(
                f"{self.description}: permission denied; on Linux add your user to the "
                "'dialout' group and log in again",
                transient=False,
            )
        if err == errno.EBUSY or "busy" in text.lower() or "exclusively lock" in text:
            return ConnectError(f"{self.description}: port busy (another program has it open)")
        return ConnectError(f"{self.description}: cannot open ({text}); {_UNPLUGGED_ADVICE}")

    def _on_readable(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            # never read(n) with n > in_waiting: socket:// would drop bytes on a close
            waiting = int(getattr(port, "in_waiting", 0) or 0)  # not on SerialBase in the stubs
            data = port.read(waiting or 1)
        except (serial.SerialException, OSError) as exc:
            self._mark_lost(f"{exc}")
            return
        if data:
            self._feed(data)

    def _feed(self, data: bytes) -> None:
        messages = self._decoder.feed(data)
        if messages:
            free = (self._messages.maxlen or 0) - len(self._messages)
            self._dropped += max(0, len(messages) - free)
            self._messages.extend(messages)
            self._wake.set()

    async def _poll(self) -> None:
        while self._port is not None and self._lost is None:
            self._on_readable()
            await asyncio.sleep(_POLL_S)

    def _mark_lost(self, reason: str) -> None:
        if self._lost is None:
            self._lost = reason
            logger.info("%s: lost (%s)", self.description, reason)
        self._stop_reading()
        self._wake.set()

    def _stop_reading(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(ValueError, OSError, RuntimeError):
                asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = None

    async def receive(self) -> list[Message]:
        """Wait for complete frames; corrupt bytes are skipped and counted (decode_errors).

        Raises:
            DisconnectedError: the port went away (unplugged, simulator stopped).
        """
        while True:
            if self._messages:
                out = list(self._messages)
                self._messages.clear()
                return out
            if self._port is None or self._lost is not None:
                raise DisconnectedError(
                    f"{self.description}: {self._lost or 'not open'}; {_UNPLUGGED_ADVICE}"
                )
            self._wake.clear()
            await self._wake.wait()

    async def send(self, payload: bytes) -> None:
        """Write one framed command.

        Raises:
            DisconnectedError: the port is closed or the write failed.
            ProtocolError: the payload does not fit in a frame.
        """
        port = self._port
        if port is None or self._lost is not None:
            raise DisconnectedError(f"{self.description}: not open")
        frame = protocol.encode_frame(payload)
        try:
            port.write(frame)
        except (serial.SerialException, OSError) as exc:
            self._mark_lost(str(exc))
            raise DisconnectedError(f"{self.description}: write failed ({exc})") from exc

    async def disconnect(self) -> None:
        """Close the port; idempotent, never raises."""
        self._stop_reading()
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        port, self._port = self._port, None
        if port is not None:
            if self._url.startswith("socket://"):
                # pyserial's socket close() shuts the socket down, then sleeps 0.3 s "to give
                # the server time": finish that in a thread instead of stalling the reconnect
                task = asyncio.create_task(asyncio.to_thread(_close_quietly, port))
                self._closers.add(task)
                task.add_done_callback(self._closers.discard)
            else:
                _close_quietly(port)
        self._wake.set()


def _close_quietly(port: serial.SerialBase) -> None:
    with contextlib.suppress(serial.SerialException, OSError):
        port.close()
