"""The calibration of one sensor as worn: a value type with versioned JSON (pure; imports nothing
from the project so that every package may use it).

Geometry (binding for the whole project, see ``docs/calibration.md``):

* Body frame B: x anterior, y to the wearer's left, z up when upright.
  ``up_body = R_bs · up_sensor``; the rows of ``R_bs`` are the body axes in the sensor frame.
* ``flexion_deg = degrees(asin(-up_body.x))`` (forward positive),
  ``lateral_deg = degrees(atan2(up_body.y, up_body.z))`` (bending to the wearer's right positive).

Sensor-level corrections are optional: ``accel_corrected = (accel - accel_offset) / accel_scale``
per axis, ``gyro_corrected = gyro - gyro_bias``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["SCHEMA_VERSION", "Calibration", "CalibrationFormatError", "Vec3"]

SCHEMA_VERSION = 1

Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]
_T = TypeVar("_T")
FloatArray = npt.NDArray[np.float64]

# nominal mounting (docs/protocol.md): body x = -z_sensor, body y = +y_sensor, body z = +x_sensor
NOMINAL_R_BS: Mat3 = ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))
_SMALL = 16  # blocks up to this size take the scalar path in to_body
_PIECE = 8192  # rows per piece in vectorised loops (fits the temporaries in L2)


class CalibrationFormatError(ValueError):
    """A calibration file or dict that cannot be used (unknown version, missing field)."""


@dataclass(frozen=True, slots=True)
class Calibration:
    """How a sensor sits on the wearer, plus optional sensor corrections.

    Attributes:
        neutral_up_sensor: up vector (unit, sensor frame) in the wearer's neutral posture.
        r_body_sensor: 3x3 rotation (rows: body x, y, z axes in the sensor frame).
        device: device identifier (device string or serial number), "" if unknown.
        created: ISO 8601 UTC time the calibration was made ("" if unknown).
        method: how the mounting was found: ``neutral``, ``neutral+forward``, ``auto``.
        accel_offset_m_s2: accelerometer offset per sensor axis, m/s², or None.
        accel_scale: accelerometer scale factor per sensor axis (1 = perfect), or None.
        gyro_bias_rad_s: gyroscope bias per sensor axis, rad/s, or None.
        neutral_gyro_rms_deg_s: angular-rate RMS during the neutral capture (stillness), °/s.
        neutral_accel_std_m_s2: acceleration standard deviation during the neutral capture, m/s².
        forward_bend_deg: angle of the forward-bend capture from neutral, degrees, or None.
        schema_version: JSON schema version (:data:`SCHEMA_VERSION`).
    """

    neutral_up_sensor: Vec3
    r_body_sensor: Mat3
    device: str = ""
    created: str = ""
    method: str = "neutral"
    accel_offset_m_s2: Vec3 | None = None
    accel_scale: Vec3 | None = None
    gyro_bias_rad_s: Vec3 | None = None
    neutral_gyro_rms_deg_s: float | None = None
    neutral_accel_std_m_s2: float | None = None
    forward_bend_deg: float | None = None
    schema_version: int = SCHEMA_VERSION
    # derived once (live blocks of a few samples call angles/correct_* hundreds of times a
    # second, where rebuilding these per call cost more than the arithmetic)
    _r: FloatArray = field(init=False, repr=False, compare=False)
    _r_items: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _accel_offset: FloatArray | None = field(init=False, repr=False, compare=False)
    _accel_scale: FloatArray | None = field(init=False, repr=False, compare=False)
    _gyro_bias: FloatArray | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        r = np.array(self.r_body_sensor, dtype=np.float64)
        if r.shape != (3, 3) or not np.all(np.isfinite(r)):
            raise CalibrationFormatError(f"r_body_sensor must be a finite 3x3 matrix, not {r}")
        if not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
            raise CalibrationFormatError("r_body_sensor is not a rotation matrix")
        r.flags.writeable = False
        object.__setattr__(self, "_r", r)
        object.__setattr__(self, "_r_items", tuple(r.ravel().tolist()))
        offset = scale = None
        if self.accel_offset_m_s2 is not None or self.accel_scale is not None:
            offset = _frozen(self.accel_offset_m_s2 or (0.0, 0.0, 0.0))
            scale = _frozen(self.accel_scale or (1.0, 1.0, 1.0))
        object.__setattr__(self, "_accel_offset", offset)
        object.__setattr__(self, "_accel_scale", scale)
        bias = None if self.gyro_bias_rad_s is None else _frozen(self.gyro_bias_rad_s)
        object.__setattr__(self, "_gyro_bias", bias)

    @property
    def has_sensor_corrections(self) -> bool:
        """Whether :meth:`correct_accel` or :meth:`correct_gyro` change anything."""
        return self._accel_offset is not None or self._gyro_bias is not None

    @property
    def r_bs(self) -> FloatArray:
        """``R_bs`` as a (3, 3) array (a copy)."""
        return self._r.copy()

    def to_body(self, up_sensor: FloatArray) -> FloatArray:
        """Rotate (N, 3) sensor-frame vectors into the body frame."""
        r = self._r
        n = up_sensor.shape[0]
        if n <= _SMALL:
            # few samples (live blocks): plain floats, same expressions, much less overhead
            (a, b, c), (d, e, f), (g, h, i) = r.tolist()
            return np.array(
                [
                    (a * x + b * y + c * z, d * x + e * y + f * z, g * x + h * y + i * z)
                    for x, y, z in up_sensor.tolist()
                ],
                dtype=np.float64,
            ).reshape(n, 3)
        out = np.empty_like(up_sensor)
        # written out rather than a matmul so that the result never depends on the block size
        # (BLAS may sum in a different order for different shapes): live == offline bit for bit;
        # in cache-sized pieces, with the same arithmetic per element
        for start in range(0, n, _PIECE):
            u = up_sensor[start : start + _PIECE]
            ux = u[:, 0]
            uy = u[:, 1]
            uz = u[:, 2]
            part = out[start : start + _PIECE]
            part[:, 0] = r[0, 0] * ux + r[0, 1] * uy + r[0, 2] * uz
            part[:, 1] = r[1, 0] * ux + r[1, 1] * uy + r[1, 2] * uz
            part[:, 2] = r[2, 0] * ux + r[2, 1] * uy + r[2, 2] * uz
        return out

    def angles(self, up_sensor: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Trunk angles from up vectors.

        Args:
            up_sensor: (N, 3) unit vectors opposite gravity, sensor frame.

        Returns:
            ``(flexion_deg, lateral_deg)``, each (N,): forward flexion positive, lateral bend to
            the wearer's right positive, 0 in the calibrated neutral posture.
        """
        n = up_sensor.shape[0]
        if n <= _SMALL:
            # live blocks: rotate and clip in plain floats (the same IEEE operations as below,
            # so the result is identical), then numpy for the trigonometric functions (its
            # implementations may differ from libm's in the last bit; batch uses numpy too)
            a, b, c, d, e, f, g, h, i = self._r_items
            sin_flex: list[float] = []
            body_y: list[float] = []
            body_z: list[float] = []
            for x, y, z in up_sensor.tolist():
                v = -(a * x + b * y + c * z)
                # np.clip(v, -1, 1) for one float (NaN stays NaN, as with numpy)
                sin_flex.append(1.0 if v > 1.0 else -1.0 if v < -1.0 else v)
                body_y.append(d * x + e * y + f * z)
                body_z.append(g * x + h * y + i * z)
            flexion_deg = np.arcsin(np.array(sin_flex, dtype=np.float64))
            lateral_deg = np.arctan2(
                np.array(body_y, dtype=np.float64), np.array(body_z, dtype=np.float64)
            )
            np.degrees(flexion_deg, out=flexion_deg)
            np.degrees(lateral_deg, out=lateral_deg)
            return flexion_deg, lateral_deg
        if n <= _PIECE:  # no piece loop, no extra allocations
            body = self.to_body(up_sensor)
            return (
                np.degrees(np.arcsin(np.clip(-body[:, 0], -1.0, 1.0))),
                np.degrees(np.arctan2(body[:, 1], body[:, 2])),
            )
        flexion_deg = np.empty(n)
        lateral_deg = np.empty(n)
        for start in range(0, n, _PIECE):
            body = self.to_body(up_sensor[start : start + _PIECE])
            stop = start + body.shape[0]
            flexion_deg[start:stop] = np.degrees(np.arcsin(np.clip(-body[:, 0], -1.0, 1.0)))
            lateral_deg[start:stop] = np.degrees(np.arctan2(body[:, 1], body[:, 2]))
        return flexion_deg, lateral_deg

    def correct_accel(self, accel_m_s2: FloatArray) -> FloatArray:
        """Apply the accelerometer offset/scale (returns the input when there is none)."""
        if self._accel_offset is None or self._accel_scale is None:
            return accel_m_s2
        return np.asarray((accel_m_s2 - self._accel_offset) / self._accel_scale, dtype=np.float64)

    def correct_gyro(self, gyro_rad_s: FloatArray) -> FloatArray:
        """Subtract the gyroscope bias (returns the input when there is none)."""
        if self._gyro_bias is None:
            return gyro_rad_s
        return np.asarray(gyro_rad_s - self._gyro_bias, dtype=np.float64)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict (tuples become lists)."""
        data = asdict(self)
        for derived in ("_r", "_r_items", "_accel_offset", "_accel_scale", "_gyro_bias"):
            data.pop(derived, None)
        return json.loads(json.dumps(data))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`.

        Raises:
            CalibrationFormatError: unknown schema version, missing or malformed fields.
        """
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise CalibrationFormatError(
                f"calibration schema_version {version!r} is not supported (this program reads "
                f"version {SCHEMA_VERSION}); re-run 'posture calibrate' to make a new one"
            )
        vec3 = "a list of 3 finite numbers"
        number = "a number or null"
        return cls(
            neutral_up_sensor=_field(data, "neutral_up_sensor", _vec3, vec3),
            r_body_sensor=_field(
                data, "r_body_sensor", _mat3, "a 3x3 matrix: a list of 3 rows of 3 numbers"
            ),
            device=str(data.get("device", "")),
            created=str(data.get("created", "")),
            method=str(data.get("method", "neutral")),
            accel_offset_m_s2=_field(data, "accel_offset_m_s2", _opt_vec3, vec3 + " or null"),
            accel_scale=_field(data, "accel_scale", _opt_vec3, vec3 + " or null"),
            gyro_bias_rad_s=_field(data, "gyro_bias_rad_s", _opt_vec3, vec3 + " or null"),
            neutral_gyro_rms_deg_s=_field(data, "neutral_gyro_rms_deg_s", _opt_float, number),
            neutral_accel_std_m_s2=_field(data, "neutral_accel_std_m_s2", _opt_float, number),
            forward_bend_deg=_field(data, "forward_bend_deg", _opt_float, number),
        )

    def save(self, path: str | Path) -> None:
        """Write as JSON, readable by the user only (0600), atomically."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.to_dict(), out, indent=2)
                out.write("\n")
            tmp.chmod(0o600)
            tmp.replace(path)
        except BaseException:  # e.g. the target is a directory: leave no .tmp file behind
            tmp.unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        """Read a file written by :meth:`save`.

        Raises:
            OSError: unreadable file.
            CalibrationFormatError: not JSON, unknown version or malformed content.
        """
        raw = Path(path).read_bytes()
        # callers name the file in their message, so these do not repeat the path
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CalibrationFormatError(f"not a JSON calibration (not UTF-8 text: {exc})") from exc
        except json.JSONDecodeError as exc:
            raise CalibrationFormatError(f"not a JSON calibration: {exc}") from exc
        if not isinstance(data, dict):
            raise CalibrationFormatError("not a JSON calibration object")
        return cls.from_dict(data)


def _frozen(values: tuple[float, ...] | FloatArray) -> FloatArray:
    """A read-only float64 copy (shared by every call, so nobody may write to it)."""
    out = np.array(values, dtype=np.float64)
    out.flags.writeable = False
    return out


def _field(data: dict[str, Any], name: str, convert: Callable[[Any], _T], shape: str) -> _T:
    """``convert(data[name])``; a missing (required) or malformed field is named with the shape
    it should have. Optional fields convert None (absent) themselves."""
    required = convert not in (_opt_vec3, _opt_float)
    if name not in data and required:
        raise CalibrationFormatError(f"malformed calibration: no field {name!r} ({shape})")
    value = data.get(name)
    try:
        return convert(value)
    except (TypeError, ValueError, IndexError) as exc:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise CalibrationFormatError(
            f"malformed calibration: {name} must be {shape}, not {shown}"
        ) from exc


def _vec3(value: Any) -> Vec3:
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(type(value).__name__)
    items = [float(v) for v in value]
    if len(items) != 3 or not all(math.isfinite(v) for v in items):
        raise ValueError(f"expected 3 finite numbers, got {value!r}")
    return (items[0], items[1], items[2])


def _mat3(value: Any) -> Mat3:
    if isinstance(value, (str, bytes, dict)) or len(value) != 3:
        raise ValueError(f"expected 3 rows, got {value!r}")
    return (_vec3(value[0]), _vec3(value[1]), _vec3(value[2]))


def _opt_vec3(value: Any) -> Vec3 | None:
    return None if value is None else _vec3(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
