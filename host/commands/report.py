"""``posture report``: a printable A4 therapist report (PDF, optionally HTML)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from host.commands.stats import add_range_arguments
from host.errors import ConfigError
from host.recording.cli_args import add_db_argument, open_private, open_store

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["register", "run"]

_EPILOG = """\
contents: data quality (wear, gaps, days under 8 h), activity, posture and ISO 11226 zones,
flexion percentiles, sustained-flexion episodes and EVA table, sitting bouts, posture shifts,
alerts and corrections, per-day table, home exercise (prescribed vs done, reps, holds,
quality, range-of-motion trends) when recorded; figures: flexion timeline with zone bands,
time in zones, daily trend. Pseudonymised: the store's random study ID, no Bluetooth address.

examples:
  posture report 5 -o session5.pdf
  posture report --from 2026-11-01 --to 2026-11-30 -o november.pdf --html
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="printable therapist report (PDF/HTML) of a session or a date range",
        description="Write an A4 PDF report of one session, the sessions between two dates, "
        "or every session. Works without a display (Qt offscreen).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_range_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.pdf")
    parser.add_argument(
        "--html", action="store_true", help="also write FILE.html (self-contained) next to it"
    )
    add_db_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the report; prints the files written."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from host.exercise.records import report_html
    from host.reports.load import load_session_data, select_sessions
    from host.reports.metrics import compute
    from host.reports.pdf import ReportInput, now_local, render_figures, write_html, write_pdf

    out: Path = args.output
    if out.suffix.lower() != ".pdf":
        raise ConfigError(f"-o {out}: the report is a PDF; name it something.pdf")
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=True,
        console=None if sys.stderr.isatty() else _quiet_console(),
    ) as progress:
        task = progress.add_task("loading sessions", total=None)

        def step(text: str) -> None:
            progress.update(task, description=text)

        with open_store(args) as store:
            sessions = select_sessions(store, args.session, args.date_from, args.date_to)
            data = []
            for i, info in enumerate(sessions, 1):
                step(f"loading session {info.id} ({i}/{len(sessions)})")
                data += load_session_data(store, [info])
            study_id = store.study_id
            calibrations = {
                info.id: events[0].data
                for info in sessions
                if info.calibration is None
                and (events := store.events(info.id, kind="calibration"))
            }
            step("home exercise")
            exercise_html = report_html(
                store,
                args.date_from,
                args.date_to,
                ids=None if args.session is None else [args.session],
                warn=_warn,
            )
        step("statistics")
        report = ReportInput(
            study_id, sessions, data, compute(data), now_local(), calibrations, exercise_html
        )
        figures = render_figures(report, step)
        step("writing PDF")
        os.close(open_private(out))
        pages = write_pdf(report, figures, out)
        if args.html:
            html_path = out.with_suffix(".html")
            os.close(open_private(html_path))
            write_html(report, figures, html_path)
    n = len(sessions)
    print(
        f"wrote {out} ({pages} page{'' if pages == 1 else 's'}, {n} session{'' if n == 1 else 's'})"
    )
    if args.html:
        print(f"wrote {out.with_suffix('.html')}")
    return 0


def _warn(message: str) -> None:
    print(f"posture: warning: {message}", file=sys.stderr, flush=True)


def _quiet_console() -> Console:
    from rich.console import Console

    # no progress display when stderr is not a terminal (logs, CI, pipes)
    return Console(quiet=True)
