"""Exception tree of Posture Companion.

Every error the project raises derives from :class:`PostureError`; domain errors also inherit
the matching builtin so generic handlers keep working::

    PostureError
    ├── TransportError
    │   ├── ConnectError               could not connect (sensor not found, refused, no adapter)
    │   │   └── BluetoothUnavailableError   Bluetooth off, missing or not permitted
    │   ├── DisconnectedError          the link dropped while in use
    │   └── TransportTimeoutError      (also TimeoutError) nothing arrived in time
    ├── ProtocolError                  (also ValueError) bytes that are not our protocol
    │   ├── FramingError               bad sync, length or truncated message
    │   ├── ChecksumError              serial frame CRC mismatch
    │   └── UnsupportedVersionError    a packet version this host does not speak
    ├── InputDataError                 (also ValueError) bad recording / CSV content
    ├── CalibrationError               (also ValueError) a capture that cannot be used
    ├── StoreError                     the session database is unusable
    └── ConfigError                    (also ValueError) bad configuration or arguments

``transient`` on :class:`TransportError` tells a supervisor whether retrying can help.
"""

from __future__ import annotations

__all__ = [
    "BluetoothUnavailableError",
    "CalibrationError",
    "ChecksumError",
    "ConfigError",
    "ConnectError",
    "DisconnectedError",
    "FramingError",
    "InputDataError",
    "PostureError",
    "ProtocolError",
    "StoreError",
    "TransportError",
    "TransportTimeoutError",
    "UnsupportedVersionError",
]


class PostureError(Exception):
    """Base class of every error raised by Posture Companion."""


class TransportError(PostureError):
    """A link to a sensor failed.

    Attributes:
        transient: True when retrying later may succeed (link loss, timeouts, busy adapter).
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class ConnectError(TransportError):
    """Connecting to the sensor failed."""


class BluetoothUnavailableError(ConnectError):
    """Bluetooth is off, missing or not permitted on this machine (permanent until fixed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class DisconnectedError(TransportError):
    """The link dropped while streaming."""


class TransportTimeoutError(TransportError, TimeoutError):
    """The sensor stayed silent for longer than allowed."""


class ProtocolError(PostureError, ValueError):
    """Bytes that do not follow docs/protocol.md."""


class FramingError(ProtocolError):
    """Bad sync bytes, impossible length or a truncated message."""


class ChecksumError(ProtocolError):
    """A serial frame whose CRC-16 does not match its content."""


class UnsupportedVersionError(ProtocolError):
    """A packet in a protocol version this host does not understand."""


class InputDataError(PostureError, ValueError):
    """A recording or CSV file with unusable content; the message names the line."""


class CalibrationError(PostureError, ValueError):
    """A calibration capture that cannot be used; the message says why and what to do."""


class StoreError(PostureError):
    """The session database cannot be opened or is damaged."""


class ConfigError(PostureError, ValueError):
    """Bad configuration or command-line arguments (CLI exit code 2)."""
