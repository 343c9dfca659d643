"""Unit tests for host.alerts: every rule on synthetic posture streams."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.alerts import Alert, AlertConfig, AlertPolicy, iso11226_holding_time_s
from host.errors import ConfigError
from host.posture import Activity, PostureBlock

RATE_HZ = 50.0
DT = 1.0 / RATE_HZ


def stream(
    segments: Sequence[tuple[float, float] | tuple[float, float, Activity]],
    *,
    t0: float = 0.0,
    noise_deg: float = 0.0,
    seed: int = 0,
) -> PostureBlock:
    """Piecewise-constant flexion: [(duration_s, flexion_deg[, activity]), ...] at 50 Hz."""
    t_parts, f_parts, a_parts = [], [], []
    t = t0
    for seg in segments:
        dur, flex = seg[0], seg[1]
        act = seg[2] if len(seg) == 3 else Activity.SITTING
        n = round(dur * RATE_HZ)
        t_parts.append(t + np.arange(n) * DT)
        f_parts.append(np.full(n, float(flex)))
        a_parts.append(np.full(n, int(act), np.int8))
        t += n * DT
    t_s = np.concatenate(t_parts)
    f = np.concatenate(f_parts)
    if noise_deg:
        f = f + np.random.default_rng(seed).normal(0.0, noise_deg, f.shape)
    return make_block(t_s, f, np.concatenate(a_parts))


def make_block(
    t_s: npt.NDArray[np.float64],
    flexion_deg: npt.NDArray[np.float64],
    activity: npt.NDArray[np.int8],
    lateral_deg: npt.NDArray[np.float64] | None = None,
) -> PostureBlock:
    n = t_s.shape[0]
    lat = np.zeros(n) if lateral_deg is None else lateral_deg
    return PostureBlock(
        t_s, flexion_deg, lat, np.zeros(n, np.int8), activity, np.zeros(n), np.ones(n)
    )


def chunk(block: PostureBlock, a: int, b: int) -> PostureBlock:
    return PostureBlock(
        block.t_s[a:b],
        block.flexion_deg[a:b],
        block.lateral_deg[a:b],
        block.zone[a:b],
        block.activity[a:b],
        block.dwell_s[a:b],
        block.confidence[a:b],
    )


def run(config: AlertConfig, block: PostureBlock, *, fast: bool = True) -> list[Alert]:
    policy = AlertPolicy(config)
    policy._fast = fast
    return policy.update(block)


SIMPLE = AlertConfig.simple(20.0, 30.0)


def first_time_at_or_after(block: PostureBlock, t: float) -> float:
    return float(block.t_s[np.searchsorted(block.t_s, t - 1e-9)])


# ---------------------------------------------------------------------- slouch rule


def test_prolonged_slouch_fires_once_at_onset_plus_hold() -> None:
    block = stream([(60, 0), (100, 25), (60, 0)])
    alerts = run(SIMPLE, block)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.kind == "slouch"
    assert a.start_s == pytest.approx(60.0)
    assert a.t_s == pytest.approx(90.0)
    assert a.peak_deg == pytest.approx(25.0)
    assert a.severity == 1
    assert "20°" in a.reason
    assert "30 s" in a.reason


def test_slouch_shorter_than_hold_is_not_alerted() -> None:
    assert run(SIMPLE, stream([(60, 0), (29, 30), (60, 0)])) == []


def test_brief_return_shorter_than_grace_keeps_counting() -> None:
    block = stream([(10, 0), (20, 25), (5, 5), (20, 25), (30, 0)])
    alerts = run(SIMPLE, block)
    assert [a.t_s for a in alerts] == [pytest.approx(40.0)]
    assert alerts[0].start_s == pytest.approx(10.0)


def test_return_longer_than_grace_starts_a_new_episode() -> None:
    block = stream([(10, 0), (20, 25), (12, 5), (20, 25), (30, 0)])
    assert run(SIMPLE, block) == []  # 20 s + 20 s, never 30 s in one episode


def test_hysteresis_keeps_the_episode_just_below_the_tolerance() -> None:
    # 17° is below the 20° tolerance but above 20 - 5 = 15°: still slouching
    block = stream([(10, 0), (10, 25), (40, 17), (10, 0)])
    alerts = run(SIMPLE, block)
    assert [a.t_s for a in alerts] == [pytest.approx(40.0)]
    # but 17° alone never enters the episode
    assert run(SIMPLE, stream([(10, 0), (60, 17)])) == []


def test_noise_at_the_threshold_gives_one_alert_per_episode() -> None:
    block = stream([(10, 0), (300, 21), (30, 0)], noise_deg=1.5)
    alerts = run(SIMPLE, block)
    assert len(alerts) == 1
    assert alerts[0].start_s == pytest.approx(10.0, abs=0.5)


def test_no_slouch_alert_while_walking() -> None:
    block = stream([(10, 0), (120, 25, Activity.WALKING), (10, 0)])
    assert run(SIMPLE, block) == []


def test_walking_longer_than_grace_ends_the_episode() -> None:
    block = stream([(10, 0), (20, 25), (15, 25, Activity.WALKING), (20, 25), (10, 0)])
    assert run(SIMPLE, block) == []


def test_transition_defers_the_alert_to_its_end() -> None:
    block = stream([(10, 0), (29, 25), (3, 40, Activity.TRANSITION), (20, 25)])
    alerts = run(SIMPLE, block)
    assert [a.t_s for a in alerts] == [pytest.approx(42.0)]


def test_brief_bend_and_leaning_back_are_not_slouches() -> None:
    cfg = AlertConfig()
    block = stream(
        [
            (60, 0),
            (1, 45, Activity.TRANSITION),
            (3, 70),
            (1, 30, Activity.TRANSITION),
            (60, 0),
            (300, -20),
            (60, 0),
        ]
    )
    assert run(cfg, block) == []


def test_default_policy_waits_two_minutes_above_fifteen_degrees() -> None:
    block = stream([(60, 0), (200, 18), (60, 0)])
    alerts = run(AlertConfig(), block)
    assert len(alerts) == 1
    assert alerts[0].t_s == pytest.approx(180.0)


def test_nan_flexion_never_alerts() -> None:
    block = stream([(10, 0), (200, 25)])
    f = block.flexion_deg.copy()
    f[:] = np.nan
    assert run(SIMPLE, make_block(block.t_s, f, block.activity)) == []


# ---------------------------------------------------------------------- ISO 11226


def test_iso_holding_time_line() -> None:
    assert iso11226_holding_time_s(10.0) == math.inf
    assert iso11226_holding_time_s(20.0) == math.inf  # 20° itself is acceptable
    assert iso11226_holding_time_s(20.0 + 1e-9) == pytest.approx(240.0)
    assert iso11226_holding_time_s(40.0) == pytest.approx(150.0)
    assert iso11226_holding_time_s(60.0) == pytest.approx(60.0)
    assert iso11226_holding_time_s(61.0) == pytest.approx(4.0)


@pytest.mark.parametrize(("angle", "expected_s"), [(30.0, 195.0), (40.0, 150.0), (55.0, 82.5)])
def test_iso_mode_fires_at_the_acceptable_holding_time(angle: float, expected_s: float) -> None:
    cfg = AlertConfig(mode="iso11226", min_gap_s=None)
    block = stream([(10, 0), (400, angle), (10, 0)])
    alerts = run(cfg, block)
    assert len(alerts) == 1
    assert alerts[0].kind == "iso11226"
    assert alerts[0].t_s - 10.0 == pytest.approx(expected_s, abs=2 * DT)
    assert "ISO 11226" in alerts[0].reason


def test_iso_mode_beyond_sixty_degrees_fires_after_a_short_hold() -> None:
    cfg = AlertConfig(mode="iso11226")
    alerts = run(cfg, stream([(10, 0), (10, 70), (10, 0)]))
    assert len(alerts) == 1
    assert alerts[0].t_s - 10.0 == pytest.approx(4.0, abs=2 * DT)
    assert "not acceptable" in alerts[0].reason


def test_iso_mode_ignores_twenty_degrees_or_less() -> None:
    cfg = AlertConfig(mode="iso11226")
    assert [a for a in run(cfg, stream([(10, 0), (900, 19.5)])) if a.kind == "iso11226"] == []


# ---------------------------------------------------------------------- nudges


def test_stillness_nudge_after_thirty_minutes_without_change() -> None:
    cfg = AlertConfig(sitting_s=None)
    block = stream([(1900, 3)], noise_deg=1.0)
    alerts = run(cfg, block)
    assert [a.kind for a in alerts] == ["stillness"]
    assert alerts[0].t_s == pytest.approx(1800.0, abs=1.0)


def test_posture_change_restarts_the_stillness_clock() -> None:
    cfg = AlertConfig(sitting_s=None)
    block = stream([(1000, 3), (5, -10), (1000, 3)])
    assert run(cfg, block) == []


def test_sitting_nudge_after_an_hour_and_breaks_reset_it() -> None:
    cfg = AlertConfig(stillness_s=None)
    alerts = run(cfg, stream([(3700, 0)]))
    assert [(a.kind, round(a.t_s)) for a in alerts] == [("sitting", 3600)]
    # a 30 s stand is too short to count as a break; 2 min is a break
    short = stream([(2000, 0), (30, 0, Activity.STANDING), (1700, 0)])
    assert [a.kind for a in run(cfg, short)] == ["sitting"]
    long = stream([(2000, 0), (120, 0, Activity.STANDING), (1700, 0)])
    assert run(cfg, long) == []


# ---------------------------------------------------------------------- limits and controls


def test_minimum_gap_defers_the_next_alert() -> None:
    cfg = AlertConfig(tolerance_deg=20, delay_s=30, stillness_s=None, sitting_s=None)
    block = stream([(10, 0), (40, 25), (20, 0), (700, 25)])
    alerts = run(cfg, block)
    assert [round(a.t_s) for a in alerts] == [40, 640]  # second due at 100 s, waits to 40+600


def test_hourly_and_daily_budgets() -> None:
    cfg = AlertConfig(
        tolerance_deg=20,
        delay_s=30,
        min_gap_s=None,
        stillness_s=None,
        sitting_s=None,
        max_per_hour=3,
        max_per_day=5,
        escalate_after=None,
        silence_after=None,
    )
    episode: list[tuple[float, float] | tuple[float, float, Activity]] = [(40, 25), (20, 0)]
    alerts = run(cfg, stream([(10, 0)] + episode * 20))  # one due every minute for 20 min
    assert len(alerts) == 3
    day = run(cfg, stream([(10, 0)] + ([*episode, (1500, 0)]) * 4))  # 4 episodes, 26 min apart
    assert len(day) == 4
    many = run(cfg, stream([(10, 0)] + (episode * 3 + [(3600, 0)]) * 3))
    assert len(many) == 5


def test_snooze_drops_alerts_and_resumes_by_itself() -> None:
    policy = AlertPolicy(SIMPLE)
    policy.snooze(100.0)
    block = stream([(10, 0), (60, 25), (20, 0), (200, 25)])
    alerts = policy.update(block)
    assert [round(a.t_s) for a in alerts] == [120]  # first episode (due 40 s) dropped
    assert policy.statistics()["dropped_snoozed"] >= 1


def test_pause_resumes_by_itself_and_resume_ends_it() -> None:
    cfg = AlertConfig.simple(20, 30)
    policy = AlertPolicy(cfg)
    policy.update(stream([(1, 0)]))
    policy.pause()
    assert policy.paused
    alerts = policy.update(stream([(60, 25), (20, 0), (cfg.pause_max_s, 0), (60, 25)], t0=1.0))
    assert len(alerts) == 1
    assert alerts[0].t_s > cfg.pause_max_s
    assert not policy.paused
    policy.pause()
    policy.resume()
    assert not policy.paused


def test_escalation_and_silence_after_ignored_alerts() -> None:
    cfg = AlertConfig(
        tolerance_deg=20,
        delay_s=30,
        min_gap_s=None,
        stillness_s=None,
        sitting_s=None,
        max_per_hour=None,
        max_per_day=None,
    )
    ignored = [(200, 25), (20, 0)]  # still slouched 60 s after each alert
    alerts = run(cfg, stream([(10, 0)] + ignored * 4))
    assert [a.severity for a in alerts] == [1, 1, 2]  # third escalates; silent after three
    assert "stronger" in alerts[2].reason
    corrected = [(35, 25), (20, 0)]  # sits up 5 s after each alert
    assert [a.severity for a in run(cfg, stream([(10, 0)] + corrected * 4))] == [1, 1, 1, 1]


def test_training_gives_quick_feedback_that_fades() -> None:
    cfg = AlertConfig(stillness_s=None, sitting_s=None)
    policy = AlertPolicy(cfg)
    policy.start_training(0.0, 600.0)
    episodes: list[tuple[float, float] | tuple[float, float, Activity]] = [(10, 0), (15, 25)]
    alerts = policy.update(stream(episodes * 24))  # 24 slouches in 10 min
    assert alerts
    assert all(a.kind == "training" for a in alerts)
    assert alerts[0].t_s == pytest.approx(15.0)
    early = sum(1 for a in alerts if a.t_s < 300)
    late = sum(1 for a in alerts if a.t_s >= 300)
    assert late < early  # feedback fades
    assert policy.statistics()["training_withheld"] >= 1
    # after the session the normal 2-minute rule applies again
    after = policy.update(stream([(10, 0), (130, 20)], t0=600.0))
    assert [a.kind for a in after] == ["slouch"]


def test_training_feedback_respects_a_snooze() -> None:
    policy = AlertPolicy(AlertConfig(stillness_s=None, sitting_s=None))
    policy.start_training(0.0, 600.0)
    policy.snooze(100.0)
    alerts = policy.update(stream([(10, 0), (15, 25), (90, 0), (15, 25)]))
    assert [round(a.t_s) for a in alerts] == [120]


def test_seconds_until_alert_counts_down() -> None:
    policy = AlertPolicy(SIMPLE)
    assert policy.seconds_until_alert() is None
    policy.update(stream([(10, 0), (10, 25)]))
    assert policy.seconds_until_alert() == pytest.approx(20.0, abs=2 * DT)
    policy.update(stream([(25, 25)], t0=20.0))
    assert policy.seconds_until_alert() is None  # alerted


def test_alert_to_dict_has_the_offline_contract_keys() -> None:
    d = run(SIMPLE, stream([(10, 0), (40, 25)]))[0].to_dict()
    assert {"t", "kind", "start", "peak_deg", "reason", "severity"} <= d.keys()
    assert d["t"] == pytest.approx(40.0)
    assert d["start"] == pytest.approx(10.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "sometimes"}, {"tolerance_deg": 0}, {"delay_s": -1}, {"training_final_fraction": 0}],
)
def test_bad_config_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        AlertConfig(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- streaming


def _day(seed: int) -> PostureBlock:
    rng = np.random.default_rng(seed)
    segs: list[tuple[float, float] | tuple[float, float, Activity]] = []
    for _ in range(40):
        kind = rng.integers(0, 5)
        if kind == 0:
            segs.append((float(rng.uniform(20, 200)), float(rng.uniform(16, 40))))
        elif kind == 1:
            segs.append((float(rng.uniform(5, 60)), 2.0, Activity.WALKING))
        elif kind == 2:
            segs.append((float(rng.uniform(1, 3)), 50.0, Activity.TRANSITION))
        elif kind == 3:
            segs.append((float(rng.uniform(30, 120)), 2.0, Activity.STANDING))
        else:
            segs.append((float(rng.uniform(2, 400)), float(rng.uniform(-5, 14))))
    return stream(segs, noise_deg=1.0, seed=seed)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["threshold", "iso11226"])
def test_fast_path_equals_per_sample_semantics(seed: int, mode: str) -> None:
    cfg = AlertConfig(mode=mode, stillness_s=600.0, sitting_s=900.0, max_per_hour=3)
    block = _day(seed)
    fast = run(cfg, block, fast=True)
    slow = run(cfg, block, fast=False)
    assert fast == slow
    assert fast or mode == "iso11226"  # the day does raise alerts


@pytest.mark.parametrize("seed", [4, 5])
def test_any_chunking_gives_identical_alerts(seed: int) -> None:
    cfg = AlertConfig(stillness_s=600.0, sitting_s=900.0)
    block = _day(seed)
    whole = run(cfg, block)
    rng = np.random.default_rng(seed)
    policy = AlertPolicy(cfg)
    chunked: list[Alert] = []
    a = 0
    while a < len(block):
        b = min(len(block), a + int(rng.integers(1, 400)))
        chunked.extend(policy.update(chunk(block, a, b)))
        a = b
    assert chunked == whole


def test_live_decision_within_one_sample() -> None:
    """Fed one sample at a time, an alert comes back from the call holding the sample at which
    its rule was met (t >= onset + hold), not later."""
    block = stream([(10, 0), (45, 25)])
    policy = AlertPolicy(SIMPLE)
    for i in range(len(block)):
        out = policy.update(chunk(block, i, i + 1))
        if out:
            assert out[0].t_s == block.t_s[i]
            assert block.t_s[i] >= 10.0 + 30.0 - 1e-9
            assert block.t_s[i - 1] < 10.0 + 30.0 - 1e-9
            return
    pytest.fail("no alert")


def test_walking_stops_the_stillness_clock() -> None:
    cfg = AlertConfig(sitting_s=None)
    block = stream([(1000, 3), (60, 3, Activity.WALKING), (1000, 3)])
    assert run(cfg, block) == []  # 1000 s + 1000 s, never 30 min without moving


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(
        st.tuples(
            st.floats(0.2, 90.0),
            st.floats(-25.0, 75.0),
            st.sampled_from(list(Activity)),
        ),
        min_size=1,
        max_size=40,
    ),
    mode=st.sampled_from(["threshold", "iso11226"]),
    cuts=st.lists(st.integers(1, 3000), max_size=8),
)
def test_property_fast_path_and_chunking_match_stepping(
    segments: list[tuple[float, float, Activity]], mode: str, cuts: list[int]
) -> None:
    cfg = AlertConfig(
        mode=mode,
        delay_s=20.0,
        stillness_s=60.0,
        sitting_s=120.0,
        min_gap_s=30.0,
        max_per_hour=5,
        sitting_break_s=10.0,
        ignored_after_s=15.0,
    )
    block = stream(segments, noise_deg=0.7)
    reference = run(cfg, block, fast=False)
    assert run(cfg, block, fast=True) == reference
    policy = AlertPolicy(cfg)
    chunked: list[Alert] = []
    bounds = sorted({0, len(block), *(c for c in cuts if c < len(block))})
    for a, b in itertools.pairwise(bounds):
        chunked += policy.update(chunk(block, a, b))
    assert chunked == reference
