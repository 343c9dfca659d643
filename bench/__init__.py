"""Benchmarks of Posture Companion: ``python -m bench [NAME ...] [--quick]`` (see README.md).

Each ``bench/bench_<topic>.py`` exposes ``run(quick: bool) -> list[dict[str, object]]``; every
dict is one table row with the keys ``benchmark``, ``ours``, ``peer``, ``unit`` and ``note``
(missing keys print blank).
"""
