"""The simulated wearer of the posture sensor: seeded scenarios with ground truth.

* :mod:`device_sim.motion` and :mod:`device_sim.scenarios`: trunk kinematics of a scenario.
* :mod:`device_sim.imu_model`: what a back-worn IMU measures (lever arm, error model).
* :mod:`device_sim.firmware`: :class:`SimDevice`, the sensor firmware (protocol, buffer, faults).
* :mod:`device_sim.transport`: the ``sim:`` channel; :mod:`device_sim.generate`: offline files.
* ``posture-sim`` (:mod:`device_sim.__main__`): generate, scenarios, serve.

The host reaches this package only through the ``sim`` entry of the channel registry.
"""

from __future__ import annotations

from device_sim.faults import FaultConfig
from device_sim.firmware import SimDevice
from device_sim.generate import Generated, generate
from device_sim.imu_model import ErrorModel
from device_sim.motion import ACTIVITIES, POSES, SCENARIOS, Motion
from device_sim.truth import Truth

__all__ = [
    "ACTIVITIES",
    "POSES",
    "SCENARIOS",
    "ErrorModel",
    "FaultConfig",
    "Generated",
    "Motion",
    "SimDevice",
    "Truth",
    "generate",
]
