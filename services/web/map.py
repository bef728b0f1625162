"""The national choropleth map: one SVG ``<path>`` per kab/kota, drawn on the server.

Pages must work offline and without JavaScript, so the map is inline SVG built here, not tiles or a
script. The boundaries are ``schemas/data/boundaries/kabkota_boundaries_simplified.geojson``
(cahyadsn/wilayah_boundaries, MIT; its notice lies beside it), checked against the region registry
when read. Nothing is read at import: the file is read once, on first use, and the path data computed
once from it (both cached for the process).

Projection: equirectangular (plate carrée) with longitudes scaled by the cosine of the middle latitude
of the bounding box (about 2.5° S for Indonesia, so the correction is 0.1 %: the country lies between
6° N and 11° S, where this projection distorts little). It is fitted to a viewBox of the given width
and the height follows from the aspect ratio, so the box's north-west corner lands on (0, 0) and its
south-east corner on (width, height).

Coordinates are rounded to a tenth of a viewBox unit (0.1 px on a 1000 px wide map, about 500 m on the
ground, the resolution of the simplified source), consecutive points that fall together are dropped,
and rings left with no area (islets smaller than the grid) are left out. Paths use relative line-tos
between rounded points, so no rounding error accumulates along a ring.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from markupsafe import Markup, escape

from schemas.regions import DATA_DIR, RegionRegistry, default_registry

BOUNDARIES = DATA_DIR / "boundaries" / "kabkota_boundaries_simplified.geojson"
#: Width of the viewBox of the national map; its height follows from the country's aspect ratio.
WIDTH = 1000.0
#: Coordinates are kept in integer tenths of a viewBox unit.
GRID = 10

Point = tuple[float, float]
#: A closed ring of (lon, lat), as in GeoJSON (the last position repeats the first).
Ring = tuple[Point, ...]
#: A polygon: its exterior ring, then its holes.
Polygon = tuple[Ring, ...]
#: A region's shape: one or more polygons.
Shape = tuple[Polygon, ...]


# ------------------------------------------------------------------------------------ reading


def _position(value: object) -> Point:
    if not (isinstance(value, list) and len(value) >= 2):
        raise ValueError(f"position {value!r} is not [lon, lat]")
    lon, lat = value[0], value[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        raise ValueError(f"position {value!r} is not [lon, lat] numbers")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"position {value!r} is outside [-180..180, -90..90] (lat and lon swapped?)")
    return float(lon), float(lat)


def _shape(geometry: object) -> Shape:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry, checked."""
    if not isinstance(geometry, dict):
        raise ValueError("no geometry")
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"geometry type {kind!r}, expected Polygon or MultiPolygon")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    if not (isinstance(polygons, list) and polygons):
        raise ValueError(f"{kind} without coordinates")
    shape = []
    for polygon in polygons:
        if not (isinstance(polygon, list) and polygon):
            raise ValueError(f"{kind}: a polygon is not a non-empty list of rings")
        rings = []
        for ring in polygon:
            if not (isinstance(ring, list) and len(ring) >= 4):
                raise ValueError(f"{kind}: a ring has fewer than 4 positions")
            rings.append(tuple(_position(p) for p in ring))
        shape.append(tuple(rings))
    return tuple(shape)


def read_boundaries(path: Path = BOUNDARIES, registry: RegionRegistry | None = None) -> dict[str, Shape]:
    """Every region's shape from the GeoJSON file at ``path``, checked by :func:`boundaries_from`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the boundaries: {exc}") from None
    return boundaries_from(document, registry or default_registry(), source=str(path))


def boundaries_from(document: object, registry: RegionRegistry, source: str) -> dict[str, Shape]:
    """Every region's shape from a GeoJSON FeatureCollection whose features carry ``region_code``.

    Each code must be in the registry, once, and every region of the registry must have a feature:
    errors name ``source`` (the file) and the feature's index. The result is in drawing order:
    kabupaten first, then kota (small, often enclosed by a kabupaten, so drawn on top), each by code.
    """
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise ValueError(f"{source}: not a GeoJSON FeatureCollection (no 'features' list)")
    shapes: dict[str, Shape] = {}
    for index, feature in enumerate(features):
        where = f"{source}: feature {index}"
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = properties.get("region_code") if isinstance(properties, dict) else None
        if not isinstance(code, str):
            raise ValueError(f"{where}: no properties.region_code")
        if code not in registry:
            raise ValueError(f"{where}: unknown region code {code!r} (registry {registry.version})")
        if code in shapes:
            raise ValueError(f"{where}: region {code} has a feature already")
        try:
            shapes[code] = _shape(feature.get("geometry"))
        except ValueError as exc:
            raise ValueError(f"{where} ({code}): {exc}") from None
    missing = sorted(set(registry.regions) - set(shapes))
    if missing:
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise ValueError(f"{source}: no feature for {len(missing)} region(s) of registry {registry.version}: {shown}")
    order = sorted(shapes, key=lambda c: (registry.get(c).type == "kota", c))
    return {code: shapes[code] for code in order}


def bounds(shapes: Iterable[Shape]) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the shapes' exterior rings."""
    lons, lats = [], []
    for shape in shapes:
        for polygon in shape:
            for lon, lat in polygon[0]:
                lons.append(lon)
                lats.append(lat)
    if not lons:
        raise ValueError("no shapes to bound")
    return min(lons), min(lats), max(lons), max(lats)


# ---------------------------------------------------------------------------------- projection


@dataclass(frozen=True)
class Projection:
    """lon/lat to viewBox units: x grows eastwards from ``west``, y southwards from ``north``."""

    west: float
    north: float
    x_scale: float  # viewBox units per degree of longitude
    y_scale: float  # viewBox units per degree of latitude
    width: float
    height: float

    @classmethod
    def fit(cls, west: float, south: float, east: float, north: float, width: float = WIDTH) -> Projection:
        """Equirectangular, longitudes scaled by cos of the middle latitude, the box filling ``width``."""
        if not (east > west and north > south and width > 0):
            raise ValueError(f"empty box {(west, south, east, north)} or width {width}")
        y_scale = width / ((east - west) * math.cos(math.radians((north + south) / 2)))
        return cls(west, north, width / (east - west), y_scale, width, (north - south) * y_scale)

    def __call__(self, lon: float, lat: float) -> Point:
        return (lon - self.west) * self.x_scale, (self.north - lat) * self.y_scale


# ----------------------------------------------------------------------------------- path data


def _tenths(value: float) -> int:
    return math.floor(value * GRID + 0.5)  # half up, whatever the sign: hand-worked ties stay simple


def grid_ring(ring: Sequence[Point], projection: Projection) -> list[tuple[int, int]]:
    """A ring projected and rounded to integer tenths of a viewBox unit, with consecutive points that
    fell together dropped and without the closing repetition of the first point."""
    out: list[tuple[int, int]] = []
    for lon, lat in ring:
        x, y = projection(lon, lat)
        point = (_tenths(x), _tenths(y))
        if not out or out[-1] != point:
            out.append(point)
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def doubled_area(points: Sequence[tuple[int, int]]) -> int:
    """Twice the (unsigned) area of a ring of grid points, by the shoelace formula."""
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, [*points[1:], *points[:1]], strict=True)))


def number(tenths: int) -> str:
    """Tenths of a unit as the shortest SVG number: 12 -> '1.2', 10 -> '1', 3 -> '.3', -3 -> '-.3'."""
    whole, tenth = divmod(abs(tenths), GRID)
    text = str(whole) if tenth == 0 else f"{whole or ''}.{tenth}"
    return "-" + text if tenths < 0 else text


def _numbers(values: Iterable[int]) -> str:
    """Numbers of a path, separated by a space, or by nothing before a minus sign."""
    out: list[str] = []
    for value in values:
        text = number(value)
        if out and not text.startswith("-"):
            out.append(" ")
        out.append(text)
    return "".join(out)


def ring_data(points: Sequence[tuple[int, int]]) -> str:
    """A closed subpath: an absolute move to the first point, relative line-tos to the others."""
    steps = [v for (x0, y0), (x1, y1) in itertools.pairwise(points) for v in (x1 - x0, y1 - y0)]
    return f"M{_numbers(points[0])}" + (f"l{_numbers(steps)}" if steps else "") + "z"


def path_data(shape: Shape, projection: Projection) -> str:
    """The ``d`` of a region: each ring that keeps an area on the grid (holes too: the map is drawn
    with ``fill-rule="evenodd"``). A region too small for any ring to survive (none of the shipped
    data at the national width) gets a square of 0.2 units at its largest ring, so it stays on the map."""
    kept = [ring_data(points) for polygon in shape for ring in polygon
            if len(points := grid_ring(ring, projection)) >= 3 and doubled_area(points)]  # fmt: skip
    if kept:
        return "".join(kept)
    largest = max((polygon[0] for polygon in shape), key=lambda r: abs(_lonlat_area(r)))
    x, y = projection(sum(p[0] for p in largest) / len(largest), sum(p[1] for p in largest) / len(largest))
    return f"M{_numbers((_tenths(x) - 1, _tenths(y) - 1))}h.2v.2h-.2z"


def _lonlat_area(ring: Ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


@dataclass(frozen=True)
class MapGeometry:
    """Path data of a map's regions, in drawing order, and the projection they were drawn with."""

    projection: Projection
    paths: Mapping[str, str]

    @property
    def view_box(self) -> str:
        return f"0 0 {number(_tenths(self.projection.width))} {number(_tenths(self.projection.height))}"


def build_map(shapes: Mapping[str, Shape], width: float = WIDTH) -> MapGeometry:
    """Fit ``shapes`` (all 514, or a province's) to a viewBox ``width`` wide and draw each region's path."""
    projection = Projection.fit(*bounds(shapes.values()), width=width)
    paths = {code: path_data(shape, projection) for code, shape in shapes.items()}
    return MapGeometry(projection, MappingProxyType(paths))


@cache
def default_boundaries() -> Mapping[str, Shape]:
    """The shipped boundaries of the 514 kab/kota, read and checked once per process."""
    return MappingProxyType(read_boundaries())


@cache
def national_map() -> MapGeometry:
    """The map of all 514 kab/kota, computed once per process."""
    return build_map(default_boundaries())


# ------------------------------------------------------------------------------------ rendering


class MapRegion(NamedTuple):
    """How one region is drawn: its fill, the text of its tooltip (also its accessible name), where a
    click leads, and its maturity level (``None``: no data), written as a class for styling."""

    fill: str
    label: str
    href: str
    level: int | None = None


def render_map(
    regions: Mapping[str, MapRegion],
    *,
    label: str,
    missing: Callable[[str], MapRegion] | None = None,
    geometry: MapGeometry | None = None,
    css_class: str = "choropleth",
) -> Markup:
    """The map as an inline SVG fragment: every region a link around its path, whose ``<title>`` is
    the tooltip without JavaScript; ``data-code`` and a ``lvl-N`` (``lvl-none``) class for scripts and
    styles. ``label`` names the map for assistive technology (``role="group"``, not ``img``, which would
    hide the links inside). Regions of the map absent from ``regions`` are drawn as ``missing(code)``
    (the caller's "no data" fill and text); without ``missing`` they are an error, as are entries that
    the map has no shape for. Every text is escaped; the caller passes all of them.
    """
    geometry = geometry or national_map()
    unknown = sorted(set(regions) - set(geometry.paths))
    if unknown:
        raise ValueError(f"no shape on this map for region(s) {', '.join(unknown[:10])}")
    absent = [code for code in geometry.paths if code not in regions]
    if absent:
        if missing is None:
            raise KeyError(f"{len(absent)} region(s) of the map have no entry and no 'missing' was given: "
                           f"{', '.join(absent[:10])}")  # fmt: skip
        regions = {**regions, **{code: missing(code) for code in absent}}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{geometry.view_box}" class="{escape(css_class)}" '
        f'role="group" aria-label="{escape(label)}">',
        '<g fill-rule="evenodd" stroke="#ffffff" stroke-width=".2" stroke-linejoin="round">',
    ]
    for code, d in geometry.paths.items():
        region = regions[code]
        level = "none" if region.level is None else int(region.level)
        parts.append(
            f'<a href="{escape(region.href)}"><path class="lvl-{level}" data-code="{escape(code)}" '
            f'fill="{escape(region.fill)}" d="{d}"><title>{escape(region.label)}</title></path></a>'
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))
