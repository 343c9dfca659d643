"""Serial channel construction: a device string without a port is a usage error (exit 2)."""

from __future__ import annotations

import pytest

from host.cli import main
from host.errors import ConfigError
from host.transports.base import parse_device
from host.transports.serial import SerialChannel


def test_serial_without_a_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs a port"):
        SerialChannel(parse_device("serial:"))


def test_monitor_with_serial_without_a_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--device", "serial:", "--duration", "1", "--no-calibrate"]) == 2
    assert "needs a port" in capsys.readouterr().err
