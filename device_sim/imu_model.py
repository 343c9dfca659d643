"""From trunk kinematics to what the back-worn IMU measures (pure, seeded, vectorised).

Physics: the sensor sits on the lower back at a lever arm from the hip pivot (≈0.25 m up the
trunk, 0.10 m behind the joint centre). Its world position ``p = pivot + R_wb · r_b`` is
differentiated numerically on the sample grid (second central difference: the relative error
at the 1.8 Hz step rate and 100 Hz is ≈0.1 %), and the accelerometer reads specific force
``f_s = R_wsᵀ (p̈ − g_world)`` with ``g_world = (0, 0, −9.80665)``. The gyroscope reads the
sensor-frame angular rate from the orientation itself (central difference of the quaternion,
``ω = log(q[k−1]* ⊗ q[k+1]) / 2Δt``), so integrating it reproduces the orientation change.

Error model (:class:`ErrorModel`, defaults like a Bosch BMI270): white noise from the noise
density over the ODR/2 bandwidth, per-device bias, scale and cross-axis errors, gyroscope bias
random walk, sample clock with a ppm error and timestamp jitter. Quantisation to int16 counts
and range saturation happen in :func:`quantise`, used by the firmware and the generator.

Noise is drawn per fixed block of samples from a seed derived from (seed, stream, block), so
the same device produces the same numbers whether it is rendered in one go or packet by packet.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import numpy.typing as npt

from device_sim import quat
from device_sim.motion import Motion
from device_sim.truth import Truth

__all__ = [
    "BLOCK",
    "GRAVITY_M_S2",
    "LEVER_ARM_BODY_M",
    "NOMINAL_MOUNT",
    "DeviceErrors",
    "ErrorModel",
    "ImuModel",
    "RenderedBlock",
    "quantise",
]

FloatArray = npt.NDArray[np.float64]

GRAVITY_M_S2 = 9.80665
LEVER_ARM_BODY_M = np.array([-0.10, 0.0, 0.25])
BLOCK = 1024  # samples per noise block (and per cached render)

# Nominal mounting: sensor x = body up, y = body left, z = body backward (x_body = −z_sensor).
# Columns are the sensor axes in body coordinates, i.e. R_bs (sensor → body).
_R_BS_NOMINAL = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
NOMINAL_MOUNT = quat.from_matrix(_R_BS_NOMINAL)


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """Sensor error parameters; per-device values are drawn from the 1σ spreads.

    Attributes:
        accel_noise_ug_rthz: accelerometer noise density, µg/√Hz (BMI270: 160).
        gyro_noise_dps_rthz: gyroscope noise density, °/s/√Hz (BMI270: 0.008).
        accel_bias_mg: 1σ accelerometer offset per axis, mg.
        accel_scale: 1σ accelerometer sensitivity error (fraction).
        accel_cross_axis: 1σ accelerometer cross-axis sensitivity (fraction).
        gyro_bias_dps: 1σ gyroscope zero-rate offset per axis, °/s.
        gyro_scale: 1σ gyroscope sensitivity error (fraction).
        gyro_cross_axis: 1σ gyroscope cross-axis sensitivity (fraction).
        gyro_bias_walk_dps_rts: gyroscope bias random walk, °/s per √s.
        clock_ppm: 1σ of the device oscillator error, ppm.
        jitter_us: 1σ of the sample timestamp jitter, µs.
    """

    accel_noise_ug_rthz: float = 160.0
    gyro_noise_dps_rthz: float = 0.008
    accel_bias_mg: float = 10.0
    accel_scale: float = 0.004
    accel_cross_axis: float = 0.002
    gyro_bias_dps: float = 0.3
    gyro_scale: float = 0.004
    gyro_cross_axis: float = 0.002
    gyro_bias_walk_dps_rts: float = 0.0005
    clock_ppm: float = 30.0
    jitter_us: float = 20.0

    @classmethod
    def ideal(cls) -> ErrorModel:
        """A perfect sensor: no noise, bias, scale, cross-axis, drift or jitter."""
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def draw(self, rng: np.random.Generator) -> DeviceErrors:
        """Draw one device's fixed errors."""

        def matrix(scale: float, cross: float) -> FloatArray:
            m = np.eye(3) + np.diag(rng.normal(0.0, scale, 3))
            off = rng.normal(0.0, cross, (3, 3))
            np.fill_diagonal(off, 0.0)
            return m + off

        return DeviceErrors(
            accel_bias_m_s2=rng.normal(0.0, self.accel_bias_mg * 1e-3 * GRAVITY_M_S2, 3),
            accel_matrix=matrix(self.accel_scale, self.accel_cross_axis),
            gyro_bias_rad_s=np.radians(rng.normal(0.0, self.gyro_bias_dps, 3)),
            gyro_matrix=matrix(self.gyro_scale, self.gyro_cross_axis),
            clock_error=float(rng.normal(0.0, self.clock_ppm)) * 1e-6,
        )


@dataclass(frozen=True, slots=True, eq=False)
class DeviceErrors:
    """One simulated device's fixed errors (drawn once from an :class:`ErrorModel`)."""

    accel_bias_m_s2: FloatArray
    accel_matrix: FloatArray
    gyro_bias_rad_s: FloatArray
    gyro_matrix: FloatArray
    clock_error: float  # device clock runs (1 + clock_error) × true time

    def to_dict(self) -> dict[str, object]:
        return {
            "accel_bias_m_s2": self.accel_bias_m_s2.round(6).tolist(),
            "accel_matrix": self.accel_matrix.round(6).tolist(),
            "gyro_bias_rad_s": self.gyro_bias_rad_s.round(8).tolist(),
            "gyro_matrix": self.gyro_matrix.round(6).tolist(),
            "clock_ppm": round(self.clock_error * 1e6, 3),
        }


@dataclass(frozen=True, slots=True, eq=False)
class RenderedBlock:
    """Measured values (before quantisation) and truth for consecutive samples.

    Attributes:
        accel_m_s2: (N, 3) specific force, sensor frame, with errors and noise.
        gyro_rad_s: (N, 3) angular rate, sensor frame, with errors and noise (None: no gyro).
        ticks: (N,) device clock at each sample, µs ticks (unwrapped, with jitter).
        truth: the ground truth of the same samples.
    """

    accel_m_s2: FloatArray
    gyro_rad_s: FloatArray | None
    ticks: npt.NDArray[np.int64]
    truth: Truth


def quantise(
    values: FloatArray, scale: float
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Counts of ``values`` at ``scale`` units per count, saturating at the int16 range.

    Returns:
        (counts (N, 3) int16, saturated (N,) bool: a value hit the end of the range).
    """
    counts = np.rint(values / scale)
    saturated = np.any((counts >= 32767) | (counts <= -32768), axis=-1)
    return np.clip(counts, -32768, 32767).astype(np.int16), saturated


@dataclass(slots=True)
class _Stream:
    """One run of samples at a constant rate (a SET_RATE starts a new stream)."""

    index: int  # stream number (noise seeds)
    first_seq: int
    first_device_s: float  # device time of the stream's first sample
    rate_hz: float
    walk_state: dict[int, FloatArray] = field(default_factory=dict)  # gyro bias at block start


class ImuModel:
    """Renders a :class:`Motion` as IMU samples of one simulated device.

    Args:
        motion: the wearer.
        seed: device seed (errors, noise); the same seed gives identical samples.
        mount_q_bs: sensor → body quaternion (default: the nominal lumbar mounting).
        errors: the error model; :meth:`ErrorModel.ideal` for a perfect sensor.
        gyro: whether the device has a gyroscope.
        lever_arm_body_m: sensor position relative to the hip pivot, body frame, m.
    """

    def __init__(
        self,
        motion: Motion,
        *,
        seed: int = 0,
        mount_q_bs: FloatArray | None = None,
        errors: ErrorModel | None = None,
        gyro: bool = True,
        lever_arm_body_m: FloatArray = LEVER_ARM_BODY_M,
    ) -> None:
        self.motion = motion
        self.seed = seed
        self.mount_q_bs = NOMINAL_MOUNT if mount_q_bs is None else np.asarray(mount_q_bs)
        self.error_model = errors if errors is not None else ErrorModel()
        self.device = self.error_model.draw(
            np.random.default_rng(np.random.SeedSequence([seed, 0xE55]))
        )
        self.gyro = gyro
        self.lever_arm_body_m = np.asarray(lever_arm_body_m, dtype=np.float64)

    def true_time(self, device_s: FloatArray | float) -> FloatArray:
        """Script (true) time at a device-clock time."""
        return np.asarray(device_s) / (1.0 + self.device.clock_error)

    def device_time(self, true_s: FloatArray | float) -> FloatArray:
        """Device-clock time at a script (true) time."""
        return np.asarray(true_s) * (1.0 + self.device.clock_error)

    def render(self, stream: _Stream, block: int, n_blocks: int = 1) -> RenderedBlock:
        """Samples of blocks ``block … block + n_blocks − 1`` of a stream (BLOCK each)."""
        em, dev = self.error_model, self.device
        n = n_blocks * BLOCK
        k = np.arange(block * BLOCK - 1, block * BLOCK + n + 1)
        device_s = stream.first_device_s + k / stream.rate_hz
        t_true = self.true_time(device_s)
        kin = self.motion.evaluate(t_true)
        dt = 1.0 / (stream.rate_hz * (1.0 + dev.clock_error))
        q_ws = quat.multiply(kin.q_wb, self.mount_q_bs)
        p = kin.pivot_world_m + quat.rotate(kin.q_wb, self.lever_arm_body_m)
        accel_world = (p[2:] - 2.0 * p[1:-1] + p[:-2]) / (dt * dt)
        accel_world[:, 2] += GRAVITY_M_S2  # p̈ − g_world
        inner = slice(1, -1)
        specific = quat.rotate_inverse(q_ws[inner], accel_world)
        # einsum: (N,3)·(3,3)ᵀ is 4× faster than the matmul for a tiny inner dimension
        accel = np.einsum("ij,kj->ik", specific, dev.accel_matrix) + dev.accel_bias_m_s2
        gyro = None
        if self.gyro:
            delta = quat.multiply(quat.conjugate(q_ws[:-2]), q_ws[2:])
            gyro = np.einsum("ij,kj->ik", quat.to_rotvec(delta) / (2.0 * dt), dev.gyro_matrix)
        bandwidth = stream.rate_hz / 2.0
        accel_sd = em.accel_noise_ug_rthz * 1e-6 * GRAVITY_M_S2 * math.sqrt(bandwidth)
        gyro_sd = math.radians(em.gyro_noise_dps_rthz) * math.sqrt(bandwidth)
        latency_s = np.zeros(n)
        for i in range(n_blocks):
            rows = slice(i * BLOCK, (i + 1) * BLOCK)
            rng = np.random.default_rng(
                np.random.SeedSequence([self.seed, 0xB10C, stream.index, block + i])
            )
            if accel_sd > 0:
                accel[rows] += rng.normal(0.0, accel_sd, (BLOCK, 3))
            if gyro is not None:
                gyro[rows] += self._gyro_bias(stream, block + i, dt)
                if gyro_sd > 0:
                    gyro[rows] += rng.normal(0.0, gyro_sd, (BLOCK, 3))
            if em.jitter_us > 0:
                # timestamps are taken after the sample is ready: a positive latency
                latency_s[rows] = np.abs(rng.normal(0.0, em.jitter_us * 1e-6, BLOCK))
        latency_s = np.minimum(latency_s, 0.25 / stream.rate_hz)
        ticks = np.rint((device_s[inner] + latency_s) * 1e6).astype(np.int64)
        up_sensor = quat.rotate_inverse(self.mount_q_bs, kin.up_body[inner])
        truth = Truth(
            seq=(stream.first_seq + k[inner]).astype(np.int64),
            t_s=device_s[inner],
            flexion_deg=kin.flexion_deg[inner],
            lateral_deg=kin.lateral_deg[inner],
            rotation_deg=kin.rotation_deg[inner],
            up_sensor=up_sensor,
            activity=kin.activity[inner],
            slouch=kin.slouch[inner],
        )
        return RenderedBlock(accel, gyro, ticks, truth)

    def truth(self, stream: _Stream, k: npt.NDArray[np.int64]) -> Truth:
        """Ground truth of samples ``k`` (indices within ``stream``), without rendering them."""
        device_s = stream.first_device_s + k / stream.rate_hz
        kin = self.motion.evaluate(self.true_time(device_s))
        return Truth(
            seq=(stream.first_seq + k).astype(np.int64),
            t_s=device_s,
            flexion_deg=kin.flexion_deg,
            lateral_deg=kin.lateral_deg,
            rotation_deg=kin.rotation_deg,
            up_sensor=quat.rotate_inverse(self.mount_q_bs, kin.up_body),
            activity=kin.activity,
            slouch=kin.slouch,
        )

    def _gyro_bias(self, stream: _Stream, block: int, dt: float) -> FloatArray:
        """Bias over the block: fixed offset + random walk continued from the previous block.

        Each block's walk is a Brownian bridge to an end point drawn first, so skipping over
        blocks (a device left alone for hours) costs one draw per block and gives the same
        path as rendering every block.
        """
        walk_sd = math.radians(self.error_model.gyro_bias_walk_dps_rts) * math.sqrt(dt)
        if walk_sd == 0:
            fixed: FloatArray = self.device.gyro_bias_rad_s
            return fixed
        start = stream.walk_state.get(block)
        if start is None:
            known = [b for b in stream.walk_state if b < block]
            b0 = max(known) if known else 0
            state = stream.walk_state.get(b0, self.device.gyro_bias_rad_s.copy())
            for b in range(b0, block):
                state = state + self._walk_rng(stream, b).normal(0.0, walk_sd * math.sqrt(BLOCK), 3)
                stream.walk_state[b + 1] = state
            start = state
        rng = self._walk_rng(stream, block)
        total = rng.normal(0.0, walk_sd * math.sqrt(BLOCK), 3)
        path = np.cumsum(rng.normal(0.0, walk_sd, (BLOCK, 3)), axis=0)
        frac = (np.arange(1, BLOCK + 1) / BLOCK)[:, None]
        bridge: FloatArray = start + path - frac * (path[-1] - total)
        stream.walk_state[block + 1] = start + total
        if len(stream.walk_state) > 64:  # keep the map small in long sessions
            for old in sorted(stream.walk_state)[:-32]:
                del stream.walk_state[old]
        return bridge

    def _walk_rng(self, stream: _Stream, block: int) -> np.random.Generator:
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, 0xD41F, stream.index, block])
        )
