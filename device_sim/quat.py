"""Vectorised unit-quaternion helpers for the simulator (pure).

Quaternions are ``(w, x, y, z)`` arrays of shape (..., 4), Hamilton convention, and rotate
vectors from the local frame into the reference frame: ``q_wb`` maps body-frame vectors to the
world frame (``v_w = q_wb ⊗ v_b ⊗ q_wb*``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "about_axis",
    "conjugate",
    "from_matrix",
    "multiply",
    "random_rotation",
    "rotate",
    "rotate_inverse",
    "to_matrix",
    "to_rotvec",
]

FloatArray = npt.NDArray[np.float64]


def about_axis(axis: int, angle_rad: FloatArray | float) -> FloatArray:
    """Rotation by ``angle_rad`` about coordinate axis 0 (x), 1 (y) or 2 (z); shape (..., 4)."""
    half = 0.5 * np.asarray(angle_rad, dtype=np.float64)
    q = np.zeros((*half.shape, 4))
    q[..., 0] = np.cos(half)
    q[..., 1 + axis] = np.sin(half)
    return q


def multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product ``a ⊗ b`` (broadcasting over leading axes)."""
    a, b = np.broadcast_arrays(a, b)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(a.shape)
    out[..., 0] = aw * bw - ax * bx - ay * by - az * bz
    out[..., 1] = aw * bx + ax * bw + ay * bz - az * by
    out[..., 2] = aw * by - ax * bz + ay * bw + az * bx
    out[..., 3] = aw * bz + ax * by - ay * bx + az * bw
    return out


def conjugate(q: FloatArray) -> FloatArray:
    """Inverse of a unit quaternion."""
    out = np.array(q, dtype=np.float64, copy=True)
    out[..., 1:] *= -1.0
    return out


def rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate vectors ``v`` (..., 3) from the local frame of ``q`` into its reference frame."""
    q = np.asarray(q, dtype=np.float64)
    shape = np.broadcast_shapes((*q.shape[:-1], 3), np.shape(v))
    return _rotate(q[..., 0], q[..., 1], q[..., 2], q[..., 3], np.broadcast_to(v, shape))


def rotate_inverse(q: FloatArray, v: FloatArray) -> FloatArray:
    """Rotate reference-frame vectors ``v`` into the local frame of ``q``."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = q[..., 0], -q[..., 1], -q[..., 2], -q[..., 3]
    shape = np.broadcast_shapes((*q.shape[:-1], 3), np.shape(v))
    return _rotate(w, x, y, z, np.broadcast_to(v, shape))


def _rotate(
    w: FloatArray, x: FloatArray, y: FloatArray, z: FloatArray, v: FloatArray
) -> FloatArray:
    # v' = v + 2w (u × v) + 2 u × (u × v), written out per component (no temporaries of np.cross)
    vx, vy, vz = v[..., 0], v[..., 1], v[..., 2]
    tx = 2.0 * (y * vz - z * vy)
    ty = 2.0 * (z * vx - x * vz)
    tz = 2.0 * (x * vy - y * vx)
    out = np.empty(np.broadcast_shapes((*np.shape(w), 3), v.shape))
    out[..., 0] = vx + w * tx + (y * tz - z * ty)
    out[..., 1] = vy + w * ty + (z * tx - x * tz)
    out[..., 2] = vz + w * tz + (x * ty - y * tx)
    return out


def to_rotvec(q: FloatArray) -> FloatArray:
    """Rotation vector (axis × angle, rad) of each quaternion, angle in [0, π]."""
    q = np.where(q[..., :1] < 0.0, -q, q)  # the short way round
    v = q[..., 1:]
    s = np.linalg.norm(v, axis=-1)
    angle = 2.0 * np.arctan2(s, q[..., 0])
    # angle / s → 2 / w as s → 0; keep it finite for the identity
    factor = np.where(s > 1e-12, angle / np.maximum(s, 1e-300), 2.0 / np.maximum(q[..., 0], 1e-12))
    return v * factor[..., None]


def to_matrix(q: FloatArray) -> FloatArray:
    """Rotation matrices (..., 3, 3) with ``R @ v_local = v_reference``."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        (
            np.stack((1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)), -1),
            np.stack((2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)), -1),
            np.stack((2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)), -1),
        ),
        axis=-2,
    )


def from_matrix(m: FloatArray) -> FloatArray:
    """Unit quaternion (4,) of one rotation matrix (Shepperd's method, numerically safe)."""
    m = np.asarray(m, dtype=np.float64)
    trace = float(np.trace(m))
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    out: FloatArray = np.array(q) / float(np.linalg.norm(q))
    return out


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation drawn uniformly from SO(3) (normalised 4-D Gaussian)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q
