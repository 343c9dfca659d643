"""What the live engine would raise on a recording (pure): :func:`evaluate_recording`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from host.alerts.config import Alert, AlertConfig
from host.alerts.policy import AlertPolicy
from host.posture import PostureConfig, PostureTracker

if TYPE_CHECKING:
    from host.analysis import Analysis
    from host.samples import SampleBlock

__all__ = ["evaluate_recording"]


def evaluate_recording(
    samples: SampleBlock,
    analysis: Analysis,
    config: AlertConfig,
    *,
    posture: PostureConfig | None = None,
    chunk: int | None = None,
) -> list[Alert]:
    """The alerts the live engine would raise on a recording.

    Runs :class:`~host.posture.PostureTracker` and :class:`AlertPolicy` over the data, whole or
    in live-sized chunks of ``chunk`` samples (the result is identical either way).

    Args:
        samples: the recording.
        analysis: its live (online) analysis, one row per sample.
        config: the alert policy, e.g. ``AlertConfig.simple(20, 30)``.
        posture: zone/activity parameters (defaults when None).
        chunk: samples per block (None: one block).
    """
    tracker = PostureTracker(posture or PostureConfig())
    policy = AlertPolicy(config)
    n = len(samples)
    step = n if chunk is None or chunk <= 0 else chunk
    alerts: list[Alert] = []
    for a in range(0, n, max(step, 1)):
        b = min(n, a + step)
        block = samples.slice(a, b)
        alerts.extend(policy.update(tracker.update(block, _slice_analysis(analysis, a, b))))
    return alerts


def _slice_analysis(analysis: Analysis, a: int, b: int) -> Analysis:
    if a == 0 and b == len(analysis.flexion_deg):
        return analysis
    o = analysis.orientation
    orientation = replace(
        o,
        t_s=o.t_s[a:b],
        up_sensor=o.up_sensor[a:b],
        confidence=o.confidence[a:b],
        rest=o.rest[a:b],
    )
    return replace(
        analysis,
        orientation=orientation,
        flexion_deg=analysis.flexion_deg[a:b],
        lateral_deg=analysis.lateral_deg[a:b],
    )
