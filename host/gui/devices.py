"""Device picker: scan results with signal strength and battery, the simulator always offered."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

__all__ = ["SIM_DEVICES", "DevicePicker", "FoundDevice"]

logger = logging.getLogger(__name__)

# The simulated wearer is always offered so the dashboard can be tried without hardware.
SIM_DEVICES = ("sim:desk_day", "sim:upright_sitting")


@dataclass(frozen=True, slots=True)
class FoundDevice:
    """One scan result: device string, name, RSSI (dBm) and battery (%) when advertised."""

    device: str
    name: str
    rssi_dbm: int | None = None
    battery_pct: int | None = None

    def label(self) -> str:
        parts = [
            f"{self.rssi_dbm} dBm" if self.rssi_dbm is not None else "",
            f"battery {self.battery_pct} %" if self.battery_pct is not None else "",
        ]
        extra = ", ".join(p for p in parts if p)
        return f"{self.name} ({extra})" if extra else self.name


def ble_scan(timeout_s: float) -> list[FoundDevice]:
    """Scan for our sensors over BLE (blocking; run it off the GUI thread)."""
    from host.transports.ble import scan

    found = asyncio.run(scan(timeout_s))
    return [
        FoundDevice(
            device=f"ble:{d.address}",
            name=d.name or d.address,
            rssi_dbm=d.rssi_dbm,
            # Battery only when the scanner reports it from advertisement data.
            battery_pct=getattr(d, "battery_pct", None),
        )
        for d in found
    ]


class _ScanDone(QObject):
    done = pyqtSignal(object, object)


class DevicePicker(QWidget):
    """Editable device combo box plus a Scan button.

    Args:
        current: the device string to preselect.
        scanner: blocking scan function (run in a worker thread); default BLE.
    """

    scan_finished = pyqtSignal(int)  # number of devices found

    def __init__(
        self,
        current: str,
        scanner: Callable[[float], Sequence[FoundDevice]] = ble_scan,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._scanner = scanner
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ble-scan")
        self._signal = _ScanDone(self)
        # Queued even when the scan fails before start_scan returns (its done-callback then runs
        # in the GUI thread): the result is always handled from the event loop, never inside
        # start_scan, so "Scanning…" is shown and callers see the scan as pending.
        # (PyQt6's stubs omit connect's connection-type argument; the runtime takes it.)
        self._signal.done.connect(self._scan_done, Qt.ConnectionType.QueuedConnection)  # type: ignore[call-arg]
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setMinimumWidth(260)
        self.combo.setToolTip("sim:SCENARIO, ble:ADDRESS, ble:name=NAME, serial:PORT, replay:FILE")
        for device in SIM_DEVICES:
            self.combo.addItem(f"{device}  (simulated wearer)", device)
        self.set_device(current)
        self.scan_button = QPushButton("Scan")
        self.scan_button.setToolTip("look for posture sensors over Bluetooth LE (5 s)")
        self.scan_button.clicked.connect(self.start_scan)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.scan_button)

    def device(self) -> str:
        """The chosen device string (typed text wins over a list entry's label)."""
        index = self.combo.currentIndex()
        text = self.combo.currentText().strip()
        if index >= 0 and text == self.combo.itemText(index):
            data = self.combo.itemData(index)
            if isinstance(data, str):
                return data
        return text

    def set_device(self, device: str) -> None:
        for index in range(self.combo.count()):
            if self.combo.itemData(index) == device:
                self.combo.setCurrentIndex(index)
                return
        self.combo.addItem(device, device)
        self.combo.setCurrentIndex(self.combo.count() - 1)

    def start_scan(self, timeout_s: float = 5.0) -> None:
        """Scan in a worker thread; results are added when done (the GUI never waits)."""
        self.scan_button.setEnabled(False)
        self.scan_button.setText("Scanning…")
        future = self._pool.submit(self._scanner, timeout_s)

        def finished(fut: concurrent.futures.Future[Sequence[FoundDevice]]) -> None:
            error = fut.exception()
            self._signal.done.emit(None if error else fut.result(), error)

        future.add_done_callback(finished)

    def _scan_done(self, found: Sequence[FoundDevice] | None, error: BaseException | None) -> None:
        self.scan_button.setEnabled(True)
        self.scan_button.setText("Scan")
        if error is not None:
            self.combo.setToolTip(f"scan failed: {error}")
            logger.info("scan failed: %s", error)
            self.scan_finished.emit(0)
            return
        for item in found or ():
            if self.combo.findData(item.device) < 0:
                self.combo.addItem(item.label(), item.device)
        self.scan_finished.emit(len(found or ()))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
