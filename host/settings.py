"""Dashboard and alert settings, persisted as TOML in the platform's user config directory.

Precedence (lowest first): the defaults of :class:`Settings` < the TOML file < environment
variables ``POSTURE_<FIELD>`` (e.g. ``POSTURE_TOLERANCE_DEG=25``). Command-line flags, applied by
the caller with :func:`dataclasses.replace`, come last. The dashboard and the live commands
(``posture monitor``, ``record``, ``exercise run``, ``rom``) read the same file, so the
therapist's alert settings (``posture program import``) apply everywhere; a broken file or
variable is refused by each of them with the file, key or variable named (exit 2).

The file is a flat TOML table whose keys are the field names of :class:`Settings`::

    device = "sim:desk_day"
    tolerance_deg = 15.0
    delay_s = 120.0
    policy_mode = "threshold"
    quiet_start = "22:00"
    quiet_end = "07:00"

It is read with :mod:`tomllib` and written with ``tomli_w``; the file is the user's only
(0600 in a 0700 directory) because settings name their sensor and their habits.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
import tomli_w

from host.errors import ConfigError
from host.private_dirs import make_private_dirs

if TYPE_CHECKING:
    from host.alerts import AlertConfig

__all__ = [
    "APP_NAME",
    "POLICY_MODES",
    "SNOOZE_CHOICES_MIN",
    "Settings",
    "alert_config_from_settings",
    "default_settings_path",
    "load_settings",
    "load_settings_sources",
    "parse_clock",
    "save_settings",
]

logger = logging.getLogger(__name__)

APP_NAME = "posture-companion"
ENV_PREFIX = "POSTURE_"
# "threshold": tolerance angle held for longer than the delay; "iso11226": the acceptable
# holding time shrinks with the angle (host.alerts.MODES, docs/alerts.md).
POLICY_MODES = ("threshold", "iso11226")
SNOOZE_CHOICES_MIN = (15, 30, 60)

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str) -> int:
    """Minutes after midnight of a ``HH:MM`` wall-clock time.

    Raises:
        ConfigError: not a valid 24-hour ``HH:MM`` time.
    """
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ConfigError(f"{text!r} is not a time of day; use 24-hour HH:MM, e.g. 22:30")
    return int(match.group(1)) * 60 + int(match.group(2))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the dashboard remembers between runs.

    Attributes:
        device: device string of the last sensor used (see host.transports.base).
        window_s: width of the live plot's scrolling window, seconds.
        tolerance_deg: flexion beyond the calibrated neutral that counts as slouching, degrees.
        delay_s: how long the slouch must last before an alert, seconds.
        policy_mode: one of :data:`POLICY_MODES`.
        quiet_start: start of quiet hours ``HH:MM`` (local time), or "" for none. During quiet
            hours alerts show only in the window (no tray or sound; the sensor's vibration is
            sent by the engine and follows ``haptics``).
        quiet_end: end of quiet hours ``HH:MM``; may be before ``quiet_start`` (over midnight).
        snooze_min: the snooze length offered first, minutes (one of 15, 30, 60).
        haptics: send a vibrate command to the sensor on alerts.
        sound: play a sound on alerts where audio exists.
        tray: show a system-tray notification on alerts where a tray exists.
        record: record sessions to the local store while connected.
        db_path: session database path, or "" for the default in the user data directory.
    """

    device: str = "sim:desk_day"
    window_s: float = 600.0
    tolerance_deg: float = 15.0  # the alert policy's defaults (host.alerts.AlertConfig)
    delay_s: float = 120.0
    policy_mode: str = "threshold"
    quiet_start: str = ""
    quiet_end: str = ""
    snooze_min: int = 30
    haptics: bool = True
    sound: bool = True
    tray: bool = True
    record: bool = False
    db_path: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check ranges and formats.

        Raises:
            ConfigError: naming the field and the accepted values.
        """
        if not 10.0 <= self.window_s <= 24 * 3600.0:
            raise ConfigError(f"window_s={self.window_s}: use 10 to 86400 seconds")
        if not 1.0 <= self.tolerance_deg <= 90.0:
            raise ConfigError(f"tolerance_deg={self.tolerance_deg}: use 1 to 90 degrees")
        if not 0.0 <= self.delay_s <= 3600.0:
            raise ConfigError(f"delay_s={self.delay_s}: use 0 to 3600 seconds")
        if self.policy_mode not in POLICY_MODES:
            raise ConfigError(
                f"policy_mode={self.policy_mode!r}: use one of {', '.join(POLICY_MODES)}"
            )
        if self.snooze_min not in SNOOZE_CHOICES_MIN:
            raise ConfigError(f"snooze_min={self.snooze_min}: use 15, 30 or 60")
        if bool(self.quiet_start) != bool(self.quiet_end):
            raise ConfigError("quiet hours need both quiet_start and quiet_end (or neither)")
        for name in ("quiet_start", "quiet_end"):
            value = getattr(self, name)
            if value:
                try:
                    parse_clock(value)
                except ConfigError as exc:
                    raise ConfigError(f"{name}: {exc}") from exc

    def in_quiet_hours(self, minute_of_day: int) -> bool:
        """True when ``minute_of_day`` (0..1439, local time) lies inside the quiet hours."""
        if not self.quiet_start:
            return False
        start, end = parse_clock(self.quiet_start), parse_clock(self.quiet_end)
        if start <= end:
            return start <= minute_of_day < end
        return minute_of_day >= start or minute_of_day < end  # over midnight

    def database_path(self) -> Path | None:
        """The session database path, or None for the recording module's default."""
        return Path(self.db_path).expanduser() if self.db_path else None


_TYPES: dict[str, type] = {f.name: type(getattr(Settings(), f.name)) for f in fields(Settings)}


def default_settings_path() -> Path:
    """``settings.toml`` in the platform's user config directory (not created)."""
    return platformdirs.user_config_path(APP_NAME) / "settings.toml"


def _coerce(name: str, value: object, where: str) -> object:
    """``value`` as the type of field ``name``; ints are accepted for float fields."""
    kind = _TYPES[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is not bool and isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be a {kind.__name__}, not a boolean")
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: {name} must be a {kind.__name__}, got {value!r}")
    return value


def _from_env(name: str, raw: str) -> object:
    kind = _TYPES[name]
    where = f"environment {ENV_PREFIX}{name.upper()}"
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{where}={raw!r} is not a {kind.__name__}") from exc
    return raw


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from defaults, the TOML file (if it exists) and ``POSTURE_*`` variables.

    Args:
        path: the TOML file; default :func:`default_settings_path`.
        env: environment to read overrides from; default ``os.environ``.

    Raises:
        ConfigError: an unreadable file, malformed TOML (naming the file and line), unknown
            keys, wrong types or out-of-range values (naming the file and line, or the
            environment variable).
    """
    return load_settings_sources(path, env)[0]


def load_settings_sources(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, frozenset[str]]:
    """:func:`load_settings`, and the names of the fields the file or the environment set.

    A command-line tool uses the second part to tell a value someone chose from a default
    (e.g. the device: the dashboard's default simulator is not a terminal command's default).

    Raises:
        ConfigError: as :func:`load_settings`.
    """
    path = default_settings_path() if path is None else path
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:  # a directory, unreadable, not text
            raise ConfigError(f"{path}: cannot read the settings: {exc}") from exc
        try:
            table = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # The message carries "(at line L, column C)".
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        for key, value in table.items():
            line = _line_of(text, key)
            where = f"{path}" + (f", line {line}" if line else "")
            if key not in _TYPES:
                raise ConfigError(f"{where}: unknown setting {key!r}; known: {', '.join(_TYPES)}")
            values[key] = _coerce(key, value, where)
        try:
            Settings(**values)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    from_env: dict[str, str] = {}
    for name in _TYPES:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _from_env(name, raw)
            from_env[name] = raw
    try:
        settings = Settings(**values)
    except ConfigError as exc:
        # the file alone was fine: name the variable whose value is refused
        culprit = next((n for n in from_env if re.match(rf"{n}\b", str(exc))), None)
        if culprit is not None:
            variable = ENV_PREFIX + culprit.upper()
            raise ConfigError(f"environment {variable}={from_env[culprit]!r}: {exc}") from exc
        names = ", ".join(ENV_PREFIX + n.upper() for n in from_env)
        raise ConfigError(f"{path} with the environment ({names}): {exc}") from exc
    logger.debug("settings from %s: %s", path, settings)
    return settings, frozenset(values)


def alert_config_from_settings(settings: Settings) -> AlertConfig:
    """The alert policy the settings describe (tolerance, delay, policy mode)."""
    from host.alerts import AlertConfig

    return dataclasses.replace(
        AlertConfig(),
        mode=settings.policy_mode,
        tolerance_deg=settings.tolerance_deg,
        delay_s=settings.delay_s,
    )


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` atomically as TOML, readable by the user only.

    Args:
        settings: what to store (every field is written, so the file documents itself).
        path: the TOML file; default :func:`default_settings_path`.

    Returns:
        The path written.
    """
    path = default_settings_path() if path is None else path
    make_private_dirs(path.parent)
    data = tomli_w.dumps(dataclasses.asdict(settings)).encode("utf-8")
    # Write a sibling temp file then rename, so a crash never leaves a half-written file.
    fd, tmp_name = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
