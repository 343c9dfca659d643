"""``posture delete``: delete a session and everything recorded in it."""

from __future__ import annotations

import argparse
import sys

from host.errors import ConfigError
from host.recording.cli_args import add_db_argument, open_store, parse_session_id

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  posture delete 7            asks for confirmation
  posture delete 7 --yes      no question (scripts)

Deleted data is overwritten in the database file (SQLite secure_delete), not just unlinked.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``delete`` subcommand."""
    parser = subparsers.add_parser(
        "delete",
        help="delete a recorded session",
        description="Delete one session: raw samples, posture summaries and events.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("session", type=parse_session_id, metavar="SESSION", help="session id")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Delete after confirmation; exit 2 when confirmation is impossible or refused."""
    with open_store(args) as store:
        info = store.session(args.session)
        if not args.yes:
            if not sys.stdin.isatty():
                raise ConfigError("not deleting without confirmation; add --yes")
            answer = input(
                f"delete session {info.id} ({info.started_at:%Y-%m-%d %H:%M}, "
                f"{info.n_samples:,} samples)? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return 2
        store.delete_session(info.id)
    print(f"deleted session {info.id}")
    return 0
