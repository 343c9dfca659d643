"""Alert policy: posture stream → rare, explained alerts (pure).

:class:`AlertPolicy` consumes :class:`~host.posture.PostureBlock` s and returns the
:class:`Alert` s decided on the samples of that block: an alert's ``t_s`` is the time of the
sample at which its rule was met, so it is decided within the block that contains that sample
(with one-sample blocks: within one sample period). Rules and their defaults (reasons in
docs/alerts.md):

- **slouch** (mode ``"threshold"``): flexion above ``tolerance_deg`` for ``delay_s``; a return
  shorter than ``grace_s`` does not reset the count; the episode clears ``hysteresis_deg``
  below the tolerance; walking counts as "not slouching"; no alert during a transition.
- **iso11226** (mode ``"iso11226"``): flexion above 20° accumulates exposure against the ISO 11226
  acceptable holding time, 4 min at 20° shrinking linearly to 1 min at 60°; beyond 60° the
  posture is not acceptable and fires after a 4 s hold.
- **stillness**: no posture change above 10° for 30 min; **sitting**: sitting for 60 min.
- **training** feedback during opt-in sessions, short delay, fading over the session.
- rate limits (minimum gap, per hour, per day: a due alert waits), snooze and pause (a due alert
  is dropped; both resume by themselves), escalation to severity 2 after ignored alerts and
  silence after too many. One alert per episode.

Time comes only from samples. :func:`evaluate_recording` runs the live stages over a recording.
"""

from __future__ import annotations

from host.alerts.config import MODES, Alert, AlertConfig, iso11226_holding_time_s
from host.alerts.offline import evaluate_recording
from host.alerts.policy import AlertPolicy

__all__ = [
    "MODES",
    "Alert",
    "AlertConfig",
    "AlertPolicy",
    "evaluate_recording",
    "iso11226_holding_time_s",
]
