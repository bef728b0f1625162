"""The national map (services/web/map.py) and the colours it is drawn with (services/web/colours.py).

Expected figures are worked out by hand in each test: a projection, a polygon on the grid, WCAG contrast.
"""

from __future__ import annotations

import gzip
import math
import re
from typing import Any

import pytest

from schemas.regions import RegionRegistry, default_registry
from services.web import colours
from services.web import map as m
from services.web.map import MapRegion, Projection

# ------------------------------------------------------------------------------------ projection


def test_the_box_corners_map_to_the_viewbox_corners() -> None:
    # Box 100..120 E, 10 S..0: middle latitude 5 S, cos 5 deg = 0.9961947. 20 deg of longitude fill
    # 1000 units (50 per degree), so a degree of latitude is 50 / 0.9961947 = 50.19099 units and the
    # 10 deg of latitude are 501.9099 units high.
    p = Projection.fit(100, -10, 120, 0, width=1000)
    assert p.x_scale == pytest.approx(50.0)
    assert p.y_scale == pytest.approx(50.19099, abs=1e-5)
    assert p.height == pytest.approx(501.9099, abs=1e-4)
    assert p(100, 0) == pytest.approx((0.0, 0.0))
    assert p(120, -10) == pytest.approx((1000.0, 501.9099), abs=1e-4)
    assert p(110, -5) == pytest.approx((500.0, 250.95495), abs=1e-4)


def test_the_national_map_is_fitted_to_the_country() -> None:
    # Read off the file: 94.9719..141.02 E, 11.0076 S..6.0752 N. Middle latitude 2.4662 S, cos = 0.999074;
    # height = 1000 * 17.0828 / (46.0481 * 0.999074) = 371.32.
    geometry = m.national_map()
    assert m.bounds(m.default_boundaries().values()) == (94.9719, -11.0076, 141.02, 6.0752)
    assert geometry.projection.height == pytest.approx(371.32, abs=0.01)
    assert geometry.view_box == "0 0 1000 371.3"
    assert geometry.projection(94.9719, 6.0752) == pytest.approx((0.0, 0.0))
    assert geometry.projection(141.02, -11.0076) == pytest.approx((1000.0, 371.32), abs=0.01)


def test_an_empty_box_is_refused() -> None:
    with pytest.raises(ValueError, match="empty box"):
        Projection.fit(100, 0, 100, 1)


# ------------------------------------------------------------------------------------- the grid

#: One degree is one unit (ten tenths), y downwards from the equator.
UNIT = Projection(west=0.0, north=0.0, x_scale=1.0, y_scale=1.0, width=10.0, height=10.0)


def test_numbers_are_written_short() -> None:
    assert [m.number(n) for n in (0, 10, 12, 3, -3, -15, 1234)] == ["0", "1", "1.2", ".3", "-.3", "-1.5", "123.4"]


def test_a_ring_is_rounded_to_tenths_and_points_that_fall_together_are_dropped() -> None:
    ring = [(0.0, 0.0), (0.25, 0.0), (1.0, 0.0), (1.04, -0.03), (1.0, -1.0), (0.0, -1.0), (0.0, -0.02), (0.0, 0.0)]
    # In tenths: (0,0) (2.5 -> 3, half up; 0) (10,0) (10.4 -> 10, 0.3 -> 0: a repeat) (10,10) (0,10)
    # (0, 0.2 -> 0: the first point again) and the closing (0,0): both go.
    points = m.grid_ring(ring, UNIT)
    assert points == [(0, 0), (3, 0), (10, 0), (10, 10), (0, 10)]
    assert m.doubled_area(points) == 200  # 10 x 10 tenths, doubled
    # Relative steps: +.3 0, +.7 0, 0 +1, -1 0; a minus sign needs no separator.
    assert m.ring_data(points) == "M0 0l.3 0 .7 0 0 1-1 0z"


def test_rings_without_area_on_the_grid_are_left_out() -> None:
    square = ((0.0, 0.0), (1.0, 0.0), (1.0, -1.0), (0.0, -1.0), (0.0, 0.0))
    islet = ((5.0, -5.0), (5.01, -5.0), (5.0, -5.01), (5.0, -5.0))  # all within one tenth: one point
    sliver = ((2.0, 0.0), (3.0, 0.0), (2.5, -0.01), (2.0, 0.0))  # on the grid a line, no area
    assert m.path_data(((square,), (islet,), (sliver,)), UNIT) == "M0 0l1 0 0 1-1 0z"


def test_a_region_too_small_for_the_grid_keeps_a_small_square() -> None:
    islet = ((0.5, -0.5), (0.51, -0.5), (0.5, -0.51), (0.5, -0.5))
    # Centre of its positions: (0.5025, 0.5025) -> tenths (5, 5); the square runs from (4, 4), 2 tenths wide.
    assert m.path_data(((islet,),), UNIT) == "M.4 .4h.2v.2h-.2z"


# ----------------------------------------------------------------------------- the boundaries


def test_every_region_has_a_path() -> None:
    paths = m.national_map().paths
    assert len(paths) == 514
    assert set(paths) == set(default_registry().regions)
    assert all(re.fullmatch(r"(M[^Mz]+z)+", d) for d in paths.values())


def test_kota_are_drawn_after_every_kabupaten() -> None:
    registry = default_registry()
    kinds = [registry.get(code).type for code in m.national_map().paths]
    assert kinds == sorted(kinds)  # "kabupaten" < "kota"
    assert kinds.count("kota") == 98


def small_registry() -> RegionRegistry:
    full = default_registry()
    return RegionRegistry(list(full.provinces.values()), [full.get("32.04"), full.get("32.73")], "test")


def feature(code: str, **geometry: Any) -> dict[str, Any]:
    ring = [[107.6, -6.9], [107.7, -6.9], [107.7, -7.0], [107.6, -6.9]]
    return {"type": "Feature", "properties": {"region_code": code},
            "geometry": geometry or {"type": "MultiPolygon", "coordinates": [[ring]]}}  # fmt: skip


def test_boundaries_are_checked_against_the_registry() -> None:
    doc = {"type": "FeatureCollection", "features": [feature("32.73"), feature("32.04")]}
    shapes = m.boundaries_from(doc, small_registry(), "b.geojson")
    assert list(shapes) == ["32.04", "32.73"]  # the kabupaten first
    assert shapes["32.73"][0][0][0] == (107.6, -6.9)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([feature("32.73"), feature("99.99")], r"b\.geojson: feature 1: unknown region code '99\.99' \(registry tes"),
        ([feature("32.73"), feature("32.73")], r"b\.geojson: feature 1: region 32\.73 has a feature already"),
        ([feature("32.73")], r"b\.geojson: no feature for 1 region\(s\) of registry test: 32\.04"),
        ([{"type": "Feature", "properties": {}}], r"b\.geojson: feature 0: no properties\.region_code"),
        ([feature("32.73", type="Point", coordinates=[107.6, -6.9])], r"feature 0 \(32\.73\): geometry type 'Point'"),
        ([feature("32.73", type="Polygon", coordinates=[[[-6.9, 107.6], [0, 0], [1, 1], [-6.9, 107.6]]])],
         r"feature 0 \(32\.73\): position \[-6\.9, 107\.6\] is outside"),
    ],
)  # fmt: skip
def test_bad_boundaries_name_the_file_and_the_feature(features: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        m.boundaries_from({"type": "FeatureCollection", "features": features}, small_registry(), "b.geojson")


# ------------------------------------------------------------------------------------- rendering


def no_data(code: str) -> MapRegion:
    return MapRegion(colours.NO_DATA_FILL, f"{default_registry().get(code).name}: belum ada data", f"/wilayah/{code}")


def test_the_map_is_one_link_and_path_per_region() -> None:
    svg = m.render_map({"32.73": MapRegion("#375a8c", "Kota Bandung: 2,41", "/wilayah/32.73", 3)},
                       label="Peta indeks", missing=no_data)  # fmt: skip
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 371.3" class="choropleth" '
                          'role="group" aria-label="Peta indeks">')  # fmt: skip
    assert svg.count("<path") == svg.count("<a href=") == svg.count("data-code=") == svg.count("<title>") == 514
    bandung = re.search(r'<a href="/wilayah/32\.73"><path class="lvl-3" data-code="32\.73" fill="#375a8c" '
                        r'd="M[^"]+z"><title>Kota Bandung: 2,41</title></path></a>', svg)  # fmt: skip
    assert bandung
    assert svg.count('class="lvl-none"') == 513
    assert "<title>Kabupaten Bandung: belum ada data</title>" in svg
    assert svg.endswith("</g></svg>")


def test_every_text_is_escaped() -> None:
    regions = {code: MapRegion('#fff" onload="x', "A <b> & C", '/w?a=1&b="2"') for code in default_registry().regions}
    svg = m.render_map(regions, label='Peta <"&">')
    assert 'aria-label="Peta &lt;&#34;&amp;&#34;&gt;"' in svg
    assert svg.count("<title>A &lt;b&gt; &amp; C</title>") == 514
    assert 'href="/w?a=1&amp;b=&#34;2&#34;"' in svg
    assert 'fill="#fff&#34; onload=&#34;x"' in svg
    assert "<b>" not in svg and 'onload="' not in svg


def test_regions_without_an_entry_or_a_shape_are_errors() -> None:
    with pytest.raises(KeyError, match="514 region"):
        m.render_map({}, label="Peta")
    with pytest.raises(ValueError, match=r"no shape on this map for region\(s\) 99\.99"):
        m.render_map({"99.99": MapRegion("#000000", "x", "/")}, label="Peta", missing=no_data)


def test_the_map_stays_small() -> None:
    # Measured: the 514 paths are 471 kB, 134 kB gzip'ed (level 6); the whole fragment with links and
    # labels 550 kB / 143 kB. The bound leaves room for longer labels, well under the 500 kB goal.
    regions = {code: MapRegion(colours.LEVEL_COLOURS[1 + i % 5], f"{r.name}: indeks 2,41, Terdefinisi",
                               f"/wilayah/{code}", 1 + i % 5)
               for i, (code, r) in enumerate(default_registry().regions.items())}  # fmt: skip
    svg = m.render_map(regions, label="Peta indeks kematangan 514 kabupaten/kota").encode()
    assert len(svg) < 650_000
    assert len(gzip.compress(svg, compresslevel=6)) < 200_000
    assert len("".join(m.national_map().paths.values())) < 500_000


# --------------------------------------------------------------------------------------- colours


def test_contrast_matches_published_figures() -> None:
    assert colours.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert colours.contrast_ratio("#ffffff", "#fff") == pytest.approx(1.0)
    # #777777: 0x77 / 255 = 0.466667, linear ((0.466667 + 0.055) / 1.055) ** 2.4 = 0.184475, so
    # (1 + 0.05) / (0.184475 + 0.05) = 4.478: the figure checkers publish for it (4.48:1).
    assert colours.relative_luminance("#777777") == pytest.approx(0.184475, abs=1e-6)
    assert colours.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.478, abs=1e-3)
    # #767676 is the lightest grey that passes 4.5:1 on white (4.54:1).
    assert colours.contrast_ratio("#ffffff", "#767676") == pytest.approx(4.54, abs=5e-3)
    # Pure red: luminance 0.2126, 1.05 / 0.2626 = 3.998.
    assert colours.contrast_ratio("#f00", "#fff") == pytest.approx(3.998, abs=1e-3)


def test_a_bad_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="not #rrggbb"):
        colours.relative_luminance("red")


@pytest.mark.parametrize("level", [1, 2, 3, 4, 5])
def test_each_level_colour_stands_out_from_the_page_and_carries_text(level: int) -> None:
    fill = colours.LEVEL_COLOURS[level]
    assert colours.contrast_ratio(fill, colours.BACKGROUND) >= 3.0  # WCAG 1.4.11, graphical objects
    assert colours.contrast_ratio(fill, colours.LEVEL_TEXT_COLOURS[level]) >= 4.5  # WCAG 1.4.3, text


def test_level_colours_as_chosen() -> None:
    figures = {level: round(colours.contrast_ratio(fill, "#fff"), 2) for level, fill in colours.LEVEL_COLOURS.items()}
    assert figures == {1: 3.3, 2: 4.76, 3: 6.99, 4: 10.58, 5: 15.24}  # darker: more mature
    assert colours.LEVEL_TEXT_COLOURS == {1: "#000000", 2: "#ffffff", 3: "#ffffff", 4: "#ffffff", 5: "#ffffff"}
    # No data is lighter than every level, so it is not read as one.
    assert colours.relative_luminance(colours.NO_DATA_FILL) > 2 * max(
        colours.relative_luminance(c) for c in colours.LEVEL_COLOURS.values()
    )


BANDS = [(0.0, "#a"), (1.0, "#b"), (2.0, "#c")]


@pytest.mark.parametrize(("value", "colour"), [(0.0, "#a"), (0.99, "#a"), (1.0, "#b"), (1.5, "#b"), (2.0, "#c"),
                                               (5.0, "#c")])  # fmt: skip
def test_a_value_takes_the_colour_of_its_band(value: float, colour: str) -> None:
    assert colours.colour_for(value, BANDS) == colour


@pytest.mark.parametrize(
    ("value", "bands", "message"),
    [(-0.1, BANDS, "below the scale"), (math.nan, BANDS, "below the scale"), (1.0, [], "no bands"),
     (1.0, [(1.0, "#a"), (1.0, "#b")], "not strictly ascending")],
)  # fmt: skip
def test_values_off_the_scale_are_errors(value: float, bands: list[tuple[float, str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        colours.colour_for(value, bands)
