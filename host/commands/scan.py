"""``posture scan``: list the posture sensors in Bluetooth range."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from host.errors import ConfigError

__all__ = ["register", "run"]

_EPILOG = """\
Only sensors advertising the Posture Companion service are listed, strongest signal first.
Use the address or the name as the device string of other commands.

examples:
  posture scan
  posture scan --timeout 10 --json
  posture monitor --device ble:name=PostureSim-1A2B

without hardware, serve the simulated sensor on a fake BlueZ and point bleak at it:
  posture-sim serve desk_day --face ble      # prints DBUS_SYSTEM_BUS_ADDRESS=...
  DBUS_SYSTEM_BUS_ADDRESS=... posture scan

exit codes: 0 sensors found, 1 none found, 3 Bluetooth unavailable (off, missing, not permitted)
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``scan`` subcommand."""
    parser = subparsers.add_parser(
        "scan",
        help="list posture sensors in Bluetooth range (name, address, signal)",
        description="Scan for Posture Companion sensors over Bluetooth LE.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="scan duration in seconds (5)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON list instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scan and print; returns the exit code (BluetoothUnavailableError propagates: exit 3)."""
    if not 0 < args.timeout <= 120:
        raise ConfigError("--timeout must be between 0 and 120 seconds")
    # imported here so other commands never pay for importing bleak
    from host.transports.ble import scan

    results = asyncio.run(scan(args.timeout))
    if args.json:
        print(json.dumps([{"name": r.name, "address": r.address, "rssi_dbm": r.rssi_dbm,
                           "battery_pct": r.battery_pct} for r in results]))  # fmt: skip
    elif results:
        width = max(len("NAME"), *(len(r.name) for r in results))
        print(f"{'NAME':<{width}}  {'ADDRESS':<17}  {'RSSI':>8}  BATTERY")
        for r in results:
            rssi = "?" if r.rssi_dbm is None else f"{r.rssi_dbm} dBm"
            battery = "?" if r.battery_pct is None else f"{r.battery_pct} %"
            print(f"{r.name:<{width}}  {r.address:<17}  {rssi:>8}  {battery}")
    if not results:
        print(
            f"no posture sensor found in {args.timeout:g} s; is it charged, switched on and in "
            "range? (no hardware? see 'posture-sim serve --help')",
            file=sys.stderr,
        )
        return 1
    return 0
