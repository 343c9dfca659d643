"""Command-line pieces shared by the store commands (record, sessions, import, export...)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from host.errors import ConfigError
from host.recording.store import SessionStore, default_db_path

__all__ = [
    "NoDatabaseError",
    "add_db_argument",
    "db_path",
    "open_private",
    "open_store",
    "parse_session_id",
]


class NoDatabaseError(ConfigError):
    """A command that only reads the store was given (or defaulted to) a missing database."""


def add_db_argument(parser: argparse.ArgumentParser, *, create: bool = False) -> None:
    """Add ``--db PATH`` (default: the user data directory).

    Args:
        parser: the command's parser.
        create: whether the command may create the database (import, record). Commands that
            only read or delete (sessions, stats, report, export, delete) must not leave a new
            database or folders behind at a mistyped path: :func:`open_store` refuses instead.
    """
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"session database (default: {default_db_path()})",
    )
    parser.set_defaults(db_create=create)


def db_path(args: argparse.Namespace) -> Path:
    """The database ``--db`` names, or the default one."""
    path: Path | None = getattr(args, "db", None)
    return path if path is not None else default_db_path()


def open_store(args: argparse.Namespace) -> SessionStore:
    """Open the store ``--db`` names (StoreError names the file if it is unusable).

    Raises:
        NoDatabaseError: (a ConfigError, exit 2) the database does not exist and the command
            was registered with ``add_db_argument(parser, create=False)``: nothing is created.
        StoreError: the file is not a usable session database (exit 1).
    """
    path = db_path(args)
    if not getattr(args, "db_create", False) and not path.exists():
        raise NoDatabaseError(
            f"no session database at {path} (record or import first, or check --db)"
        )
    return SessionStore.open(path)


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
