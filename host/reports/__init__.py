"""Therapist statistics (pure metrics over per-second summaries) and printable reports."""

from host.reports.metrics import (
    AlertMark,
    MetricsConfig,
    PeriodStats,
    RangeStats,
    SessionData,
    compute,
)

__all__ = ["AlertMark", "MetricsConfig", "PeriodStats", "RangeStats", "SessionData", "compute"]
