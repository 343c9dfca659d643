"""Subcommands of ``posture``: one module each, discovered by :func:`host.cli.build_parser`.

A module defines ``register(subparsers)``: add a parser with a teaching ``help``/``description``
and ``set_defaults(func=run)`` where ``run(args) -> int`` returns the exit code. Raise
``ConfigError``/``InputDataError`` for bad input (exit 2); the CLI maps the error tree to codes.
"""
