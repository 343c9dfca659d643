"""How the sensor sits on the wearer: the calibration value type (re-exported here) and its fits
(:mod:`calibration.procedures`), storage (:mod:`calibration.store`) and guided routine
(:mod:`calibration.routine`). Conventions: ``docs/calibration.md``.

Only :mod:`calibration.model` is imported here, so importing the package stays light and free of
project dependencies (the simulator imports it).
"""

from calibration.model import SCHEMA_VERSION, Calibration, CalibrationFormatError

__all__ = ["SCHEMA_VERSION", "Calibration", "CalibrationFormatError"]
