"""Fault injection settings of the simulated sensor (pure).

Data-level faults (dropped DATA packets, corrupted bytes, stalls) are applied by
:class:`device_sim.firmware.SimDevice` itself; link-level faults (link loss, refused connections,
the device disappearing) are enforced by whoever owns the link (the in-process ``SimChannel``,
the serial and BLE faces) through ``SimDevice.link_fault_active``, ``reachable`` and
``refuses_connection``.

Periodic faults happen at ``every, 2·every, …`` seconds of simulated time and last
``duration`` seconds each; the disappearance happens once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from host.errors import ConfigError

__all__ = ["FAULT_KEYS", "FaultConfig"]

# option name (URI/CLI) -> field; the field names themselves are accepted too
_ALIASES: dict[str, str] = {
    "drop": "drop_rate",
    "corrupt": "corrupt_rate",
    "stall_every": "stall_every_s",
    "stall_for": "stall_duration_s",
    "stall_duration": "stall_duration_s",
    "link_loss_every": "link_loss_every_s",
    "drop_link_every": "link_loss_every_s",
    "link_loss_for": "link_loss_duration_s",
    "link_loss_duration": "link_loss_duration_s",
    "refuse": "refuse_connections",
    "disappear_after": "disappear_after_s",
    "disappear_for": "disappear_for_s",
}


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Which faults to inject (all off by default).

    Attributes:
        drop_rate: fraction of DATA packets lost (0–1).
        corrupt_rate: fraction of serial frames with one flipped byte (0–1).
        stall_every_s, stall_duration_s: the device stops sending (but stays connected).
        link_loss_every_s, link_loss_duration_s: the link drops; reconnects fail meanwhile.
        refuse_connections: every connection attempt is refused.
        disappear_after_s, disappear_for_s: the device is unreachable once, for a while.
    """

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    stall_every_s: float = 0.0
    stall_duration_s: float = 0.0
    link_loss_every_s: float = 0.0
    link_loss_duration_s: float = 2.0
    refuse_connections: bool = False
    disappear_after_s: float = 0.0
    disappear_for_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("drop_rate", "corrupt_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault {name}={value} must be a fraction between 0 and 1")
        for name in (
            "stall_every_s",
            "stall_duration_s",
            "link_loss_every_s",
            "link_loss_duration_s",
            "disappear_after_s",
            "disappear_for_s",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"fault {name} must not be negative")
        if self.stall_every_s and self.stall_duration_s >= self.stall_every_s:
            raise ConfigError("fault stall_duration_s must be shorter than stall_every_s")
        if self.link_loss_every_s and self.link_loss_duration_s >= self.link_loss_every_s:
            raise ConfigError("fault link_loss_duration_s must be shorter than link_loss_every_s")

    @property
    def any(self) -> bool:
        """True when some fault is configured."""
        return self != FaultConfig()

    @classmethod
    def from_params(cls, params: dict[str, str]) -> FaultConfig:
        """Parse fault options from URI/CLI parameters; other keys are ignored.

        Keys: the field names or their short forms ``drop``, ``corrupt``, ``stall_every``,
        ``stall_for``, ``link_loss_every`` (``drop_link_every``), ``link_loss_for``, ``refuse``,
        ``disappear_after``, ``disappear_for``. Booleans accept 1/0, true/false, yes/no.

        Raises:
            ConfigError: a value that is not a number (or boolean), or out of range.
        """
        kinds = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | bool] = {}
        for key, raw in params.items():
            name = _ALIASES.get(key, key)
            if name not in kinds:
                continue
            if name == "refuse_connections":
                text = raw.strip().lower()
                if text not in ("1", "0", "true", "false", "yes", "no", ""):
                    raise ConfigError(f"fault option {key}={raw!r}: expected 1 or 0")
                values[name] = text in ("1", "true", "yes", "")
                continue
            try:
                values[name] = float(raw)
            except ValueError as exc:
                raise ConfigError(f"fault option {key}={raw!r} is not a number") from exc
        return cls(**values)  # type: ignore[arg-type]

    def stall_active(self, t_s: float) -> bool:
        """The device is stalled (sends nothing) at simulated time ``t_s``."""
        return _periodic(t_s, self.stall_every_s, self.stall_duration_s)

    def link_loss_active(self, t_s: float) -> bool:
        """A scheduled link loss covers ``t_s``."""
        return _periodic(t_s, self.link_loss_every_s, self.link_loss_duration_s)

    def disappeared(self, t_s: float) -> bool:
        """The device is unreachable at ``t_s``."""
        start = self.disappear_after_s
        return self.disappear_for_s > 0 and start <= t_s < start + self.disappear_for_s

    def next_link_fault_s(self, t_s: float) -> float:
        """Start of the next link loss or disappearance strictly after ``t_s`` (inf: none)."""
        candidates = [float("inf")]
        if self.link_loss_every_s > 0 and self.link_loss_duration_s > 0:
            k = int(t_s // self.link_loss_every_s) + 1
            candidates.append(k * self.link_loss_every_s)
        if self.disappear_for_s > 0 and self.disappear_after_s > t_s:
            candidates.append(self.disappear_after_s)
        return min(candidates)

    def link_fault_end_s(self, t_s: float) -> float:
        """When the link fault covering ``t_s`` ends (``t_s`` if none covers it)."""
        end = t_s
        if self.link_loss_active(t_s):
            k = int(t_s // self.link_loss_every_s)
            end = max(end, k * self.link_loss_every_s + self.link_loss_duration_s)
        if self.disappeared(t_s):
            end = max(end, self.disappear_after_s + self.disappear_for_s)
        return end


FAULT_KEYS: frozenset[str] = frozenset(_ALIASES) | frozenset(f.name for f in fields(FaultConfig))


def _periodic(t_s: float, every_s: float, duration_s: float) -> bool:
    if every_s <= 0 or duration_s <= 0 or t_s < every_s:
        return False
    return (t_s % every_s) < duration_s
