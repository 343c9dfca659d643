"""How posture zones and activities look in the dashboard (names, colours, plot bands)."""

from __future__ import annotations

from host.gui.plots import ZoneBand
from host.gui.widgets import ZoneStyle
from host.posture import Activity, PostureConfig, Zone

__all__ = ["ACTIVITY_LABELS", "ZONE_STYLES", "zone_bands", "zone_style"]

# Colour-blind-safe-ish: blue for leaning back, green/yellow/orange/red for forward flexion.
ZONE_STYLES: tuple[ZoneStyle, ...] = (
    ZoneStyle(int(Zone.RECLINED), "Reclined", "#7fb8e6"),
    ZoneStyle(int(Zone.UPRIGHT), "Upright", "#7ccf8a"),
    ZoneStyle(int(Zone.MILD), "Mild flexion", "#f2d56b"),
    ZoneStyle(int(Zone.SLOUCHED), "Slouched", "#f2a25c"),
    ZoneStyle(int(Zone.DEEP), "Deep flexion", "#e5736b"),
)
_UNKNOWN = ZoneStyle(int(Zone.UNKNOWN), "No data", "#d0d0d0")
_BY_CODE = {style.code: style for style in ZONE_STYLES}

ACTIVITY_LABELS: dict[int, str] = {
    int(Activity.UNKNOWN): "—",
    int(Activity.SITTING): "sitting",
    int(Activity.STANDING): "standing",
    int(Activity.WALKING): "walking",
    int(Activity.TRANSITION): "moving",
}


def zone_style(code: int) -> ZoneStyle:
    """The style of zone ``code`` (an int value of :class:`host.posture.Zone`)."""
    return _BY_CODE.get(code, _UNKNOWN)


def zone_bands(config: PostureConfig | None = None) -> list[ZoneBand]:
    """Background bands for the flexion plot: the posture tracker's zone edges, degrees."""
    edges = [float(e) for e in (config or PostureConfig()).edges_deg]
    bands = []
    low = -90.0
    for style, high in zip(ZONE_STYLES, [*edges, 180.0], strict=True):
        bands.append(ZoneBand(low, high, style.colour, style.label))
        low = high
    return bands
