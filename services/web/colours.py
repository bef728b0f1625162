"""Colour scales of the pages, and the five maturity level colours with their WCAG 2 contrast.

No colour library is in the lock file, so contrast is computed here from WCAG 2's definitions of
relative luminance and contrast ratio (https://www.w3.org/TR/WCAG22/#dfn-relative-luminance).

The level colours are five samples of viridis (perceptually uniform, readable with the common colour
vision deficiencies), taken from its part that keeps at least 3:1 against the white page (WCAG 1.4.11,
non-text contrast): darker means more mature, about 11 points of CIELAB lightness apart. Regions
without data are a light grey (:data:`NO_DATA_FILL`), lighter than every level, so that nobody reads
it as one; the caller's label says "no data" in words.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Sequence

WHITE, BLACK = "#ffffff", "#000000"
#: The page background the colours are chosen against.
BACKGROUND = WHITE

#: Maturity level (1 Rintisan .. 5 Optimum) -> fill. Viridis at 0.56, 0.42, 0.28, 0.14 and 0.
LEVEL_COLOURS = {1: "#1f9f88", 2: "#287d8e", 3: "#375a8c", 4: "#46307e", 5: "#440154"}
#: Fill of a region without data.
NO_DATA_FILL = "#d0d0d0"

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def channels(colour: str) -> tuple[float, float, float]:
    """sRGB channels in 0..1 of ``#rrggbb`` or ``#rgb``."""
    match = _HEX.fullmatch(colour)
    if not match:
        raise ValueError(f"colour {colour!r} is not #rrggbb or #rgb")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    r, g, b = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance: each sRGB channel linearised, weighted 0.2126 R + 0.7152 G + 0.0722 B."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = channels(colour)
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio (L1 + 0.05) / (L2 + 0.05), the lighter colour's luminance on top: 1 to 21."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_on(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill``: the colour of text written on it."""
    return BLACK if contrast_ratio(fill, BLACK) >= contrast_ratio(fill, WHITE) else WHITE


#: Maturity level -> colour of text on its fill (a legend chip, a badge).
LEVEL_TEXT_COLOURS = {level: text_colour_on(fill) for level, fill in LEVEL_COLOURS.items()}


def colour_for(value: float, bands: Sequence[tuple[float, str]]) -> str:
    """The colour of the band ``value`` falls in. ``bands`` are (lower bound, colour), bounds strictly
    ascending; a band runs from its bound up to the next one's, the last one upwards without end. The
    first bound is the scale's minimum: a value below it, or NaN, is an error (the caller draws "no
    data" itself), not a silently chosen colour."""
    if not bands:
        raise ValueError("no bands")
    lower = [bound for bound, _ in bands]
    if any(b <= a for a, b in itertools.pairwise(lower)):
        raise ValueError(f"band bounds {lower} are not strictly ascending")
    if math.isnan(value) or value < lower[0]:
        raise ValueError(f"value {value} is below the scale, which starts at {lower[0]}")
    return bands[bisect.bisect_right(lower, value) - 1][1]
