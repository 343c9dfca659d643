"""The simulated sensor as a serial device: a pseudo-terminal or a loopback TCP stream.

* ``pty``: a pty pair (``tty.setraw`` on the slave so binary data passes untouched); the
  simulator keeps the master and publishes a **stable symlink** to the slave in a private 0700
  directory. A link loss is an "unplug": the pty is closed (the host's next read raises
  ``SerialException``) and the symlink removed; when the fault ends a new pty appears behind the
  same symlink, like a USB CDC device re-enumerating.
* ``tcp``: a server on 127.0.0.1 only (``serial:socket://127.0.0.1:PORT``), one host at a time.
  A link loss closes the connection and stops listening until the fault ends (connects are
  refused meanwhile).

Bytes are serial frames (host.protocol.encode_frame); host commands are read back with a
FrameDecoder. Writes never block the device: when the host does not read, bytes are dropped and
counted, as a UART without flow control would. The device's ``corrupt_rate`` fault flips one
byte in that fraction of frames to exercise the host's resynchronisation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from device_sim.fake_bluez import Peripheral
from host import protocol
from host.protocol import Command, FrameDecoder

__all__ = ["SerialFace", "SerialFaceOptions", "SerialFaceStatistics"]

logger = logging.getLogger(__name__)

_TCP_BUFFER_LIMIT = 256 * 1024  # bytes queued for a host that does not read, then drop


@dataclass(frozen=True, slots=True)
class SerialFaceOptions:
    """Behaviour knobs (device faults come from the Peripheral's own schedule).

    Attributes:
        speed: simulated seconds per wall-clock second.
        tick_s: longest wall-clock sleep of the device clock loop (it wakes earlier when a
            packet or a fault is due).
    """

    speed: float = 1.0
    tick_s: float = 0.05


@dataclass(slots=True)
class SerialFaceStatistics:
    """What the face did."""

    frames_sent: int = 0
    bytes_dropped: int = 0
    frames_corrupted: int = 0
    commands: int = 0
    unplugs: int = 0
    host_connections: int = 0


class SerialFace:
    """Serve a simulated sensor over a pty or loopback TCP.

    Args:
        peripheral: the simulated firmware.
        kind: ``"pty"`` or ``"tcp"``.
        options: behaviour knobs.
        on_command: called with every decoded host command (e.g. to report VIBRATE).
    """

    def __init__(
        self,
        peripheral: Peripheral,
        kind: Literal["pty", "tcp"] = "pty",
        options: SerialFaceOptions | None = None,
        *,
        on_command: Callable[[Command], None] | None = None,
    ) -> None:
        self.peripheral = peripheral
        self.kind = kind
        self.options = options or SerialFaceOptions()
        self.statistics = SerialFaceStatistics()
        self.port = ""  # the SERIAL_PORT string (symlink path or socket:// URL)
        self._on_command = on_command
        self._decoder = FrameDecoder()
        self._plugged = False
        self._clock: asyncio.Task[None] | None = None
        self._advanced_at_s = 0.0
        # pty
        self._dir: Path | None = None
        self._master: int | None = None
        self._slave: int | None = None
        # tcp
        self._server: asyncio.Server | None = None
        self._tcp_port = 0
        self._writer: asyncio.StreamWriter | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        """Create the port, start the device clock; returns the SERIAL_PORT string."""
        if self.kind == "pty":
            self._dir = Path(tempfile.mkdtemp(prefix="posture-sim-serial."))  # 0700
            self.port = str(self._dir / "tty")
        else:
            server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
            self._tcp_port = server.sockets[0].getsockname()[1]
            server.close()
            await server.wait_closed()
            self.port = f"socket://127.0.0.1:{self._tcp_port}"
        p = self.peripheral
        if not (p.link_fault_active() or not p.reachable()):
            await self._plug()
        self._clock = asyncio.create_task(self._run_clock(), name="serial-face-clock")
        return self.port

    async def stop(self) -> None:
        """Stop the clock, unplug and remove the port."""
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
            self._clock = None
        await self._unplug("simulator stopping")
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def __aenter__(self) -> SerialFace:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def plugged(self) -> bool:
        """True while the port exists (pty) or the server listens (tcp)."""
        return self._plugged

    # ------------------------------------------------------------------ plug / unplug

    async def _plug(self) -> None:
        if self._plugged:
            return
        if self.kind == "pty":
            self._open_pty()
        else:
            self._server = await asyncio.start_server(
                self._on_client, "127.0.0.1", self._tcp_port, reuse_address=True
            )
        self._plugged = True
        self._decoder.reset()
        self.peripheral.set_link(True)

    async def _unplug(self, reason: str) -> None:
        if not self._plugged:
            return
        logger.info("serial face unplugged: %s", reason)
        self._plugged = False
        self.statistics.unplugs += reason != "simulator stopping"
        self.peripheral.set_link(False)
        if self.kind == "pty":
            self._close_pty()
            return
        if self._server is not None:
            self._server.close()  # stop listening: connects are refused until re-plugged
            self._server = None
        self._drop_client()  # the handler task then sees EOF and ends on its own
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=1.0)

    def _open_pty(self) -> None:
        assert self._dir is not None
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: binary frames pass unchanged
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        link = self._dir / "tty"
        tmp = self._dir / "tty.new"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(link)  # atomic: a host never sees a half-made link
        asyncio.get_running_loop().add_reader(master, self._on_pty_readable)

    def _close_pty(self) -> None:
        if self._dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (self._dir / "tty").unlink()
        master, self._master = self._master, None
        slave, self._slave = self._slave, None
        if master is not None:
            asyncio.get_running_loop().remove_reader(master)
            os.close(master)
        if slave is not None:
            os.close(slave)

    def _on_pty_readable(self) -> None:
        if self._master is None:
            return
        try:
            data = os.read(self._master, 4096)
        except BlockingIOError:
            return
        except OSError:  # EIO: no slave open; nothing to read
            return
        self._on_bytes(data)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._plugged:
            writer.close()
            return
        self._drop_client()  # one host at a time: a new one takes over
        self._writer = writer
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        self._decoder.reset()
        self.statistics.host_connections += 1
        self.peripheral.set_link(True)
        try:
            while data := await reader.read(4096):
                self._on_bytes(data)
        except (ConnectionError, OSError):
            pass
        finally:
            if self._writer is writer:
                self._drop_client()
                # the host went away: the device notices the link is down
                self.peripheral.set_link(False)
                if self._plugged:
                    self.peripheral.set_link(True)

    def _drop_client(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    # ------------------------------------------------------------------ data

    def _on_bytes(self, data: bytes) -> None:
        for message in self._decoder.feed(data):
            if not isinstance(message, Command):
                continue
            self.statistics.commands += 1
            # bring the device clock to now first (a TIME_SYNC must see the current tick)
            pending = self._advance()
            if self._plugged and (self.kind == "pty" or self._writer is not None):
                for early in pending:
                    self._write(early)
            if self._on_command is not None:
                self._on_command(message)
            for reply in self.peripheral.handle_command(protocol.encode_message(message)):
                self._write(reply)

    def _write(self, message: bytes) -> None:
        raw = protocol.encode_frame(message)
        frame = self.peripheral.corrupt(raw)  # the device's corrupt_rate fault
        self.statistics.frames_corrupted += frame is not raw and frame != raw
        if self.kind == "pty":
            if self._master is None:
                return
            try:
                written = os.write(self._master, frame)
            except BlockingIOError:
                written = 0
            except OSError:
                return
            self.statistics.bytes_dropped += len(frame) - written
        else:
            writer = self._writer
            if writer is None or writer.is_closing():
                return
            if writer.transport.get_write_buffer_size() > _TCP_BUFFER_LIMIT:
                self.statistics.bytes_dropped += len(frame)
                return
            writer.write(frame)
        self.statistics.frames_sent += 1

    def _advance(self) -> list[bytes]:
        now_s = asyncio.get_running_loop().time()
        dt_s = (now_s - self._advanced_at_s) * self.options.speed
        self._advanced_at_s = now_s
        return self.peripheral.advance(max(0.0, dt_s))

    async def _run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        last_s = loop.time()
        p = self.peripheral
        speed = self.options.speed
        self._advanced_at_s = last_s
        while True:
            # wake when the next packet or fault is due, at most every tick_s
            due_s = min(p.next_due_s(), p.next_link_fault_s())
            await asyncio.sleep(max(0.0, min(self.options.tick_s, (due_s - p.t_s) / speed)))
            out = self._advance()
            down = p.link_fault_active() or not p.reachable()
            if down and self._plugged:
                await self._unplug("link loss (fault schedule)")
            elif not down and not self._plugged:
                await self._plug()
            if self._plugged and (self.kind == "pty" or self._writer is not None):
                for message in out:
                    self._write(message)
