"""The PyQt6 + pyqtgraph dashboard (``posture dashboard``).

Modules: ``app`` (bootstrap, screenshot mode), ``main_window``, ``bridge`` (engine thread → GUI
thread: queued signals and the rate-capped ring-buffer drain), ``session`` (non-blocking engine
calls through ``EngineThread.submit``), ``plots``, ``widgets``, ``zones``, ``devices`` (picker and
BLE scan), ``wizard`` (calibration), ``history``, ``settings_dialog``, ``notify`` (tray/sound).

Nothing is imported here, so ``import host.gui`` stays free of Qt; see docs/dashboard.md.
"""
