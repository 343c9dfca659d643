"""Command-line pieces shared by the store commands (record, sessions, import, export...)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from host.errors import ConfigError
from host.recording.store import SessionStore, default_db_path

__all__ = ["add_db_argument", "open_private", "open_store", "parse_session_id"]


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--db PATH`` (default: the user data directory)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"session database (default: {default_db_path()})",
    )


def open_store(args: argparse.Namespace) -> SessionStore:
    """Open the store ``--db`` names (StoreError names the file if it is unusable)."""
    return SessionStore.open(getattr(args, "db", None))


def parse_session_id(text: str) -> int:
    """A session id as typed by the user (argparse ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a session id; 'posture sessions' lists them"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"session ids are positive, got {value}")
    return value


def open_private(path: Path) -> int:
    """Create/truncate ``path`` readable by the user only (0600: health data); returns an fd.

    Raises:
        ConfigError: the file cannot be written.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode on O_CREAT: tighten it
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc}") from exc
    return fd
