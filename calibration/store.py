"""Per-device calibration storage: one versioned JSON file per device, readable by the user only.

Files live in ``<user config dir>/posture-companion/calibrations/`` (platformdirs), named after
the device's identity (:func:`host.transports.base.device_identity`: the device string without
its options, so ``sim:desk_day?speed=10`` finds what ``sim:desk_day`` stored) made safe for file
names. Directory 0700, files 0600 (health data).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from calibration.model import Calibration, CalibrationFormatError
from host.private_dirs import make_private_dirs
from host.transports.base import device_identity

__all__ = ["CalibrationStore", "default_directory", "stamp"]

logger = logging.getLogger(__name__)

APP_NAME = "posture-companion"


def default_directory() -> Path:
    """``<user config dir>/posture-companion/calibrations``."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "calibrations"


def stamp(calibration: Calibration, when: datetime | None = None) -> Calibration:
    """The calibration with ``created`` set to ``when`` (default: now, UTC, ISO 8601)."""
    import dataclasses

    moment = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return dataclasses.replace(calibration, created=moment.isoformat())


class CalibrationStore:
    """Save and find calibrations by device.

    Args:
        path: directory to use; default :func:`default_directory`.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_directory()

    def file_for(self, device: str) -> Path:
        """The file that holds ``device``'s calibration (keyed by its identity, no options)."""
        return self._file_named(device_identity(device))

    def _file_named(self, device: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", device).strip("._") or "default"
        if safe != device:  # keep distinct devices distinct after sanitising
            safe = f"{safe[:60]}-{hashlib.sha1(device.encode()).hexdigest()[:8]}"
        return self.path / f"{safe}.json"

    def save(self, calibration: Calibration) -> Path:
        """Store (replacing any earlier one for the same device); returns the file path.

        A calibration without ``created`` is stamped with the current time.
        """
        if not calibration.created:
            calibration = stamp(calibration)
        make_private_dirs(self.path)  # the folders it creates: 0700
        self.path.chmod(0o700)  # and its own folder, even if it existed
        target = self.file_for(calibration.device)
        calibration.save(target)
        logger.info("calibration for %r saved to %s", calibration.device, target)
        return target

    def load(self, device: str) -> Calibration | None:
        """The stored calibration of ``device``, or None if there is none or it is unusable
        (an unusable file is logged, not raised: the caller simply calibrates again)."""
        target = self.file_for(device)
        if not target.exists():
            # stored by an older version under the full device string, options included
            target = self._file_named(device)
            if not target.exists():
                return None
        try:
            return Calibration.load(target)
        except (OSError, CalibrationFormatError) as exc:
            logger.warning("ignoring calibration %s: %s", target, exc)
            return None

    def devices(self) -> list[str]:
        """Identities (:func:`~host.transports.base.device_identity`) of the devices with a
        stored calibration, sorted."""
        if not self.path.is_dir():
            return []
        found = set()
        for file in sorted(self.path.glob("*.json")):
            try:
                found.add(device_identity(Calibration.load(file).device))
            except (OSError, CalibrationFormatError):
                continue
        return sorted(found)
