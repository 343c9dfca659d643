"""SimDevice: packets, control point, on-device buffer, replay and faults, via host.protocol."""

from __future__ import annotations

import numpy as np
import pytest

from device_sim.faults import FaultConfig
from device_sim.firmware import SimDevice
from device_sim.generate import generate
from device_sim.imu_model import GRAVITY_M_S2, ErrorModel
from host.errors import ConfigError
from host.protocol import (
    LIVE_ONLY,
    Command,
    ConfigMessage,
    DataPacket,
    DeviceError,
    Message,
    Opcode,
    Response,
    Result,
    StatusMessage,
    VibratePattern,
    decode_message,
    encode_message,
)
from host.samples import SampleAssembler, SampleBlock


def command(device: SimDevice, opcode: Opcode, *params: int, token: int = 1) -> list[Message]:
    return [
        decode_message(m)
        for m in device.handle_command(encode_message(Command(opcode, params, token)))
    ]


def run(device: SimDevice, seconds: float, step_s: float = 0.02) -> list[Message]:
    out: list[Message] = []
    for _ in range(round(seconds / step_s)):
        out += [decode_message(m) for m in device.advance(step_s)]
    return out


def assemble(
    config: ConfigMessage, messages: list[Message], asm: SampleAssembler | None = None
) -> tuple[SampleAssembler, SampleBlock]:
    asm = asm or SampleAssembler(config)
    blocks = [b for m in messages if isinstance(m, DataPacket) and (b := asm.push(m)) is not None]
    return asm, SampleBlock.concatenate(blocks)


def test_identity_config_and_status() -> None:
    device = SimDevice("upright_sitting", seed=42)
    assert device.name.startswith("PostureSim-")
    assert len(device.name) == len("PostureSim-") + 4
    assert device.address.startswith("C0:FF:EE:")
    assert SimDevice("upright_sitting", seed=42).name == device.name
    assert SimDevice("upright_sitting", seed=43).address != device.address
    response, config = command(device, Opcode.GET_CONFIG)
    assert isinstance(response, Response)
    assert response.result is Result.OK
    assert isinstance(config, ConfigMessage)
    assert config.rate_hz == 100
    assert config.tick_hz == 1_000_000
    assert config.accel_scale_m_s2 == pytest.approx(8 * GRAVITY_M_S2 / 32768, rel=1e-6)
    _, status = command(device, Opcode.GET_STATUS)
    assert isinstance(status, StatusMessage)
    assert status.battery_pct == 100
    assert device.device_info().name == device.name


def test_stream_decodes_with_contiguous_sequence_and_plausible_values() -> None:
    device = SimDevice("upright_sitting", seed=1)
    config = device.config()
    assert run(device, 1.0) == []  # not streaming yet: nothing sent
    response = command(device, Opcode.START, LIVE_ONLY)[0]
    assert isinstance(response, Response)
    assert response.values() == (100, 0)  # live from the next sample, nothing replayed
    messages = run(device, 7.0)
    packets = [m for m in messages if isinstance(m, DataPacket)]
    assert all(len(p) == 5 for p in packets)
    seqs = [p.seq for p in packets]
    assert seqs == list(range(seqs[0], seqs[0] + 5 * len(seqs), 5))
    assert sum(isinstance(m, StatusMessage) for m in messages) == 1  # every 5 s
    asm, block = assemble(config, messages)
    assert asm.statistics.missing_samples == 0
    assert len(block) >= 695
    still = np.linalg.norm(block.accel_m_s2, axis=1)
    assert np.all(np.abs(still - GRAVITY_M_S2) < 0.6)
    assert np.allclose(np.diff(block.t_s), 0.01, atol=1e-4)


def test_live_stream_equals_offline_generation() -> None:
    device = SimDevice("walking", seed=9)
    command(device, Opcode.START, LIVE_ONLY)
    _, block = assemble(device.config(), run(device, 30.0, step_s=0.013))
    offline = generate("walking", seed=9, minutes=0.6)
    seq = block.seq
    assert seq is not None
    assert np.array_equal(block.accel_m_s2, offline.samples.accel_m_s2[seq])
    assert block.gyro_rad_s is not None
    assert offline.samples.gyro_rad_s is not None
    assert np.array_equal(block.gyro_rad_s, offline.samples.gyro_rad_s[seq])
    truth = device.truth_until()
    assert np.array_equal(truth.flexion_deg, offline.truth.flexion_deg[: len(truth)])


def test_replay_after_link_outage_fills_the_gap_exactly() -> None:
    device = SimDevice("pick_up", seed=2)
    command(device, Opcode.START, LIVE_ONLY)
    asm, _ = assemble(device.config(), run(device, 10.0))
    for _ in range(3):
        device.set_link(False)
        assert run(device, 12.0) == []  # outage: nothing leaves, samples go to the buffer
        device.set_link(True)
        assert run(device, 1.0) == []  # no streaming until START again
        response = command(device, Opcode.START, asm.next_seq)[0]  # type: ignore[arg-type]
        assert isinstance(response, Response)
        assert response.result is Result.OK
        first, count = response.values()
        assert first == asm.next_seq
        assert count >= 1300
        messages = run(device, 10.0)
        assert any(isinstance(m, DataPacket) and m.replayed for m in messages)
        asm, _ = assemble(device.config(), messages, asm)
    stats = asm.statistics
    assert stats.missing_samples == 0
    assert stats.gaps == 0
    assert stats.replayed_samples >= 3 * 1300
    assert asm.next_seq is not None
    assert asm.next_seq > device.produced - 5  # caught up with the live stream


def test_buffer_overflow_gives_partial_and_an_exact_gap() -> None:
    device = SimDevice("upright_sitting", seed=3, buffer_capacity=1000)
    command(device, Opcode.START, LIVE_ONLY)
    asm, _ = assemble(device.config(), run(device, 5.0))
    device.set_link(False)
    run(device, 20.0)
    device.set_link(True)
    _, status = command(device, Opcode.GET_STATUS)
    assert isinstance(status, StatusMessage)
    assert status.buffer_overflowed
    assert status.error is DeviceError.BUFFER_OVERFLOW
    assert status.buffer_fill == 1000
    expected_next = asm.next_seq
    response = command(device, Opcode.START, expected_next)[0]  # type: ignore[arg-type]
    assert isinstance(response, Response)
    assert response.result is Result.PARTIAL
    first, count = response.values()
    assert count == 1000
    asm, _ = assemble(device.config(), run(device, 5.0), asm)
    # the full ring keeps overwriting its oldest samples while the replay catches up: those
    # few are lost too, and counted
    lost = first - expected_next + device.counters["overwritten_samples"]  # type: ignore[operator]
    assert device.counters["overwritten_samples"] < 10
    assert asm.statistics.missing_samples == lost
    assert asm.statistics.gaps >= 1


def test_control_point_answers_every_opcode() -> None:
    device = SimDevice("guided", seed=4)
    for opcode, params in [
        (Opcode.SET_RATE, (50,)),
        (Opcode.SET_RANGE, (4, 500)),
        (Opcode.SET_PACKING, (10,)),
        (Opcode.VIBRATE, (int(VibratePattern.GENTLE), 2, 150, 100)),
        (Opcode.TIME_SYNC, (123456789,)),
        (Opcode.IDENTIFY, (3,)),
        (Opcode.GET_CONFIG, ()),
        (Opcode.GET_STATUS, ()),
        (Opcode.START, (LIVE_ONLY,)),
        (Opcode.REPLAY, (0, 0)),
        (Opcode.STOP, ()),
    ]:
        answers = command(device, opcode, *params, token=int(opcode))
        response = answers[0]
        assert isinstance(response, Response), opcode
        assert response.opcode is opcode
        assert response.token == int(opcode)
        assert response.result in (Result.OK, Result.PARTIAL), opcode
    config = device.config()
    assert (config.rate_hz, config.accel_range_g, config.gyro_range_dps) == (50, 4, 500)
    assert config.samples_per_packet == 10
    assert device.vibrations == [(0.0, int(VibratePattern.GENTLE))]
    run(device, 1.0)
    sync = command(device, Opcode.TIME_SYNC, 0)[0]
    assert isinstance(sync, Response)
    assert abs(sync.values()[0] - 1_000_000) < 200  # tick at t = 1 s, ppm-level clock error


def test_bad_commands_and_parameters() -> None:
    device = SimDevice("guided", seed=5)
    assert device.handle_command(b"") == []
    assert device.handle_command(b"\x01\x01garbage") == []
    # an opcode it does not know: a Response echoing token and opcode (docs/protocol.md §4.5)
    assert device.handle_command(bytes([0x10, 1, 9, 0x7F])) == [bytes([0x04, 1, 9, 0x7F, 1])]
    truncated = decode_message(device.handle_command(bytes([0x10, 1, 9, int(Opcode.START), 0]))[0])
    assert isinstance(truncated, Response)
    assert truncated.result is Result.BAD_PARAMETER
    for opcode, params in [
        (Opcode.SET_RATE, (10,)),
        (Opcode.SET_RANGE, (3, 500)),
        (Opcode.SET_PACKING, (0,)),
        (Opcode.VIBRATE, (99, 1, 1, 1)),
    ]:
        response = command(device, opcode, *params)[0]
        assert isinstance(response, Response)
        assert response.result is Result.BAD_PARAMETER
    command(device, Opcode.START, LIVE_ONLY)
    busy = command(device, Opcode.SET_RATE, 200)[0]
    assert isinstance(busy, Response)
    assert busy.result is Result.BUSY  # reconfigure only while stopped
    with pytest.raises(ConfigError):
        SimDevice("no_such_scenario")
    with pytest.raises(ConfigError):
        device.request_pose("handstand")


def test_rate_change_starts_a_new_stream() -> None:
    device = SimDevice("upright_sitting", seed=6)
    run(device, 2.0)
    command(device, Opcode.SET_RATE, 200)
    command(device, Opcode.START, LIVE_ONLY)
    config = device.config()
    _, block = assemble(config, run(device, 3.0))
    assert np.allclose(np.diff(block.t_s), 0.005, atol=1e-4)
    assert len(block) >= 590


def test_explicit_replay_resends_a_range() -> None:
    device = SimDevice("upright_sitting", seed=7)
    run(device, 10.0)
    response = command(device, Opcode.REPLAY, 100, 50)[0]
    assert isinstance(response, Response)
    assert response.values() == (100, 50)
    packets = [m for m in run(device, 1.0) if isinstance(m, DataPacket)]
    assert [p.seq for p in packets] == list(range(100, 150, 5))
    assert all(p.replayed for p in packets)


def test_battery_drains_while_streaming() -> None:
    device = SimDevice("upright_sitting", seed=8, rate_hz=25, samples_per_packet=40)
    device.advance(3600.0)
    assert device.battery_pct() == 99  # idle: 1 %/h
    command(device, Opcode.START, LIVE_ONLY)
    device.advance(3600.0)
    assert device.battery_pct() == 94  # streaming: 5 %/h
    command(device, Opcode.STOP)
    device.advance(94 * 3600.0)
    status = device.status()
    assert status.battery_pct == 0
    assert status.error is DeviceError.LOW_BATTERY


def test_drop_rate_loses_that_fraction_of_packets() -> None:
    device = SimDevice("upright_sitting", seed=9, faults=FaultConfig(drop_rate=0.2))
    command(device, Opcode.START, LIVE_ONLY)
    asm, _ = assemble(device.config(), run(device, 60.0))
    sent = asm.statistics.packets + device.counters["dropped_packets"]
    assert device.counters["dropped_packets"] / sent == pytest.approx(0.2, abs=0.04)
    # every dropped packet is a gap of its 5 samples, unless it was the very last one
    assert asm.statistics.missing_samples in (
        5 * device.counters["dropped_packets"],
        5 * device.counters["dropped_packets"] - 5,
    )


def test_corrupt_flips_bytes_in_frames() -> None:
    device = SimDevice("upright_sitting", seed=10, faults=FaultConfig(corrupt_rate=0.5))
    frames = [device.corrupt(b"\xa5\x5a" + bytes(20)) for _ in range(400)]
    changed = sum(f != b"\xa5\x5a" + bytes(20) for f in frames)
    assert 150 < changed < 250
    assert all(len(f) == 22 for f in frames)


def test_stall_stops_sending_but_keeps_the_data() -> None:
    faults = FaultConfig(stall_every_s=10.0, stall_duration_s=3.0)
    device = SimDevice("upright_sitting", seed=11, faults=faults)
    command(device, Opcode.START, LIVE_ONLY)
    times = []
    for _ in range(1500):  # 30 s
        if any(isinstance(decode_message(m), DataPacket) for m in device.advance(0.02)):
            times.append(device.t_s)
    silent = np.diff(times)
    assert silent.max() == pytest.approx(3.0, abs=0.1)
    assert device.counters["stalls"] == 2
    assert device.produced >= 3000


def test_link_level_fault_schedule() -> None:
    faults = FaultConfig.from_params(
        {
            "link_loss_every": "30",
            "link_loss_for": "2",
            "disappear_after": "100",
            "disappear_for": "20",
        }
    )
    device = SimDevice("upright_sitting", faults=faults)
    assert not device.link_fault_active(29.9)
    assert device.link_fault_active(30.5)
    assert not device.link_fault_active(32.1)
    assert device.next_link_fault_s(0.0) == 30.0
    assert device.next_link_fault_s(95.0) == 100.0
    assert not device.reachable(110.0)
    assert device.reachable(121.0)
    assert device.link_fault_end_s(110.0) == 120.0
    assert SimDevice("guided", faults=FaultConfig(refuse_connections=True)).refuses_connection()


def test_guided_poses_move_the_wearer_and_six_positions_point_axes_up() -> None:
    device = SimDevice("guided", seed=12, random_mount=True)
    command(device, Opcode.START, LIVE_ONLY)
    run(device, 25.0)
    device.request_pose("slouch")
    run(device, 5.0)
    truth = device.truth_until()
    assert truth.flexion_deg[-1] == pytest.approx(28.0, abs=0.01)
    assert truth.slouch[-1]
    config = device.config()
    for pose, axis in [("x_up", 0), ("y_down", 1), ("z_up", 2)]:
        device.request_pose(pose)
        _, block = assemble(config, run(device, 5.0))
        mean = block.accel_m_s2[-100:].mean(axis=0)
        sign = -1.0 if pose.endswith("down") else 1.0
        assert sign * mean[axis] == pytest.approx(GRAVITY_M_S2, abs=0.3)
        assert device.truth_until().up_sensor[-1][axis] == pytest.approx(sign, abs=1e-6)


def test_faults_parse_from_options() -> None:
    f = FaultConfig.from_params(
        {"drop": "0.1", "refuse": "1", "stall_every": "5", "stall_for": "1", "seed": "3"}
    )
    assert f == FaultConfig(
        drop_rate=0.1, refuse_connections=True, stall_every_s=5.0, stall_duration_s=1.0
    )
    for bad in (
        {"drop": "x"},
        {"drop": "2"},
        {"refuse": "maybe"},
        {"stall_every": "1", "stall_for": "2"},
    ):
        with pytest.raises(ConfigError):
            FaultConfig.from_params(bad)
    assert not FaultConfig().any
    assert f.any


def test_small_ranges_saturate_and_flag_the_packets() -> None:
    # trunk motion stays within ±125 °/s, so give this device a grossly offset gyroscope
    device = SimDevice("pick_up", seed=13, errors=ErrorModel(gyro_bias_dps=300.0))
    assert np.degrees(np.abs(device.imu.device.gyro_bias_rad_s)).max() > 130
    answers = command(device, Opcode.SET_RANGE, 2, 125)
    assert isinstance(answers[1], ConfigMessage)
    assert answers[1].gyro_range_dps == 125
    command(device, Opcode.START, LIVE_ONLY)
    packets = [m for m in run(device, 10.0, step_s=0.05) if isinstance(m, DataPacket)]
    assert all(p.saturated for p in packets)
    gyro = np.concatenate([p.gyro for p in packets if p.gyro is not None])
    assert np.abs(gyro.astype(np.int32)).max() in (32767, 32768)  # clipped at the range end
    accel = np.concatenate([p.accel for p in packets])
    assert np.abs(accel.astype(np.int32)).max() < 32767  # 1 g at ±2 g does not clip
