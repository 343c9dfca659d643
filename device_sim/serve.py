"""``posture-sim serve``: the simulated sensor on a real link face (BLE via a fake BlueZ, serial).

::

    posture-sim serve desk_day --face ble            # prints DBUS_SYSTEM_BUS_ADDRESS=...
    posture-sim serve desk_day --face serial         # prints SERIAL_PORT=/tmp/.../tty
    posture-sim serve desk_day --face tcp --drop-link-every 30 --drop-link-for 3

The one line on stdout is printed (and flushed) as soon as the face is ready; then it serves
until SIGINT/SIGTERM and cleans up (the private dbus-daemon is stopped by PID). VIBRATE and
IDENTIFY commands are reported on stderr. The simulator engineer's ``device_sim/__main__.py``
mounts :func:`register`; ``python -m device_sim.serve`` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Literal

from device_sim.fake_bluez import FakeBluez, FakeBluezOptions, PrivateBus
from device_sim.faults import FaultConfig
from device_sim.firmware import SimDevice
from device_sim.serial_face import SerialFace, SerialFaceOptions
from host.errors import ConfigError
from host.protocol import Command, Opcode, VibratePattern

__all__ = ["build_device", "main", "register", "run"]

logger = logging.getLogger(__name__)

_EPILOG = """\
faces:
  ble     a private dbus-daemon with a fake BlueZ (org.bluez): any program using unmodified
          bleak with DBUS_SYSTEM_BUS_ADDRESS set to the printed address finds the sensor
  serial  a pseudo-terminal (stable symlink; it re-appears after a simulated unplug)
  tcp     a TCP byte stream on 127.0.0.1 (serial:socket://127.0.0.1:PORT)

examples:
  posture-sim serve desk_day --face ble > sim.env & sleep 1; export $(cat sim.env)
  posture scan
  posture-sim serve desk_day --face ble --speed 10 --drop-link-every 60 --drop-link-for 5
  DBUS_SYSTEM_BUS_ADDRESS=unix:path=... posture monitor --device ble:name=PostureSim-XXXX
  posture-sim serve slouching --face serial --corrupt-rate 0.01
  posture monitor --device serial:/tmp/posture-sim-serial.abc123/tty
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` subcommand."""
    p = subparsers.add_parser(
        "serve",
        help="serve the simulated sensor over BLE (fake BlueZ), a pty or TCP",
        description="Run the simulated sensor behind a real link face so the host (or any "
        "bleak / pyserial program) talks to it exactly as to hardware.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "scenario",
        nargs="?",
        default="desk_day",
        help="wearer scenario (default desk_day; 'posture-sim scenarios' lists them)",
    )
    p.add_argument(
        "--face",
        choices=("ble", "serial", "tcp"),
        default="ble",
        help="link to serve on: ble, serial (a pty) or tcp; see 'faces' below (default ble)",
    )
    p.add_argument("--rate", type=int, default=100, metavar="HZ", help="sample rate (25-1000)")
    p.add_argument("--seed", type=int, default=0, help="seeds wearer, noise, faults, name")
    p.add_argument("--no-gyro", action="store_true", help="a device without gyroscope")
    p.add_argument("--packing", type=int, default=5, metavar="N", help="samples per packet")
    p.add_argument("--random-mount", action="store_true", help="sensor stuck on at any angle")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="simulated s per s")
    p.add_argument(
        "--remove-on-disconnect",
        action="store_true",
        help="ble: drop the device object when the link dies, as real BlueZ does",
    )
    f = p.add_argument_group("faults (simulated seconds)")
    f.add_argument("--drop-link-every", type=float, default=0.0, metavar="S")
    f.add_argument("--drop-link-for", type=float, default=2.0, metavar="S")
    f.add_argument("--stall-every", type=float, default=0.0, metavar="S")
    f.add_argument("--stall-for", type=float, default=0.0, metavar="S")
    f.add_argument("--refuse-connections", action="store_true")
    f.add_argument("--disappear-after", type=float, default=0.0, metavar="S")
    f.add_argument("--disappear-for", type=float, default=0.0, metavar="S")
    f.add_argument("--drop-rate", type=float, default=0.0, metavar="F", help="DATA packets lost")
    f.add_argument("--corrupt-rate", type=float, default=0.0, metavar="F", help="serial frames")
    p.set_defaults(func=run)


def build_device(args: argparse.Namespace) -> SimDevice:
    """The SimDevice the options describe.

    Raises:
        ConfigError: bad scenario, rate or fault values.
    """
    faults = FaultConfig(
        drop_rate=args.drop_rate,
        corrupt_rate=args.corrupt_rate,
        stall_every_s=args.stall_every,
        stall_duration_s=args.stall_for,
        link_loss_every_s=args.drop_link_every,
        link_loss_duration_s=args.drop_link_for,
        refuse_connections=args.refuse_connections,
        disappear_after_s=args.disappear_after,
        disappear_for_s=args.disappear_for,
    )
    if args.speed <= 0:
        raise ConfigError("--speed must be positive")
    return SimDevice(
        args.scenario,
        seed=args.seed,
        rate_hz=args.rate,
        gyro=not args.no_gyro,
        samples_per_packet=args.packing,
        random_mount=args.random_mount,
        faults=faults,
    )


def report_command(command: Command) -> None:
    """Tell the developer on stderr what the host asked for (VIBRATE, IDENTIFY)."""
    if command.opcode is Opcode.VIBRATE and command.params:
        try:
            pattern = VibratePattern(command.params[0]).name
        except ValueError:
            pattern = f"pattern {command.params[0]}"
        sys.stderr.write(f"VIBRATE {pattern} {command.params[1:]}\n")
        sys.stderr.flush()
    elif command.opcode is Opcode.IDENTIFY:
        sys.stderr.write(f"IDENTIFY {command.params}\n")
        sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code (3: dbus-daemon missing or broken).

    Raises:
        ConfigError: bad scenario, rate or fault options (exit 2 in the CLI).
    """
    device = build_device(args)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(args, device))
    except (FileNotFoundError, RuntimeError) as exc:  # PrivateBus: no or failing dbus-daemon
        sys.stderr.write(f"posture-sim: {exc}\n")
        return 3
    return 0


def _announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve(args: argparse.Namespace, device: SimDevice) -> None:
    if args.face == "ble":
        with PrivateBus() as bus:
            options = FakeBluezOptions(
                speed=args.speed, remove_on_disconnect=args.remove_on_disconnect
            )
            fake = FakeBluez(device, options, on_command=report_command, bus_address=bus.address)
            async with fake:
                sys.stderr.write(f"serving {device.name} ({device.address}) on a fake BlueZ\n")
                _announce(f"DBUS_SYSTEM_BUS_ADDRESS={bus.address}")
                await _wait_for_signal()
        return
    kind: Literal["pty", "tcp"] = "pty" if args.face == "serial" else "tcp"
    face = SerialFace(device, kind, SerialFaceOptions(speed=args.speed), on_command=report_command)
    async with face:
        sys.stderr.write(f"serving {device.name} on {face.port}\n")
        _announce(f"SERIAL_PORT={face.port}")
        await _wait_for_signal()


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry: ``python -m device_sim.serve SCENARIO --face ...``."""
    parser = argparse.ArgumentParser(prog="posture-sim")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        sys.stderr.write(f"posture-sim: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
