"""Colour-vision-deficiency checks for tests: are these colours still told apart?

Used by ``tests/view/test_style.py`` and by any test that walks the plot functions:

    from tests.view.cvd import assert_distinguishable
    assert_distinguishable(colors_used(fig).data, what="plot_lost_updates")

**How.** Each colour is passed through colorspacious's simulation of a colour-vision
deficiency (the model of Machado, Oliveira & Fernandes, IEEE TVCG 15(6), 2009) at severity
100, i.e. the full dichromacy: deuteranopia, protanopia and tritanopia. Then the difference
between two simulated colours is their distance in CAM02-UCS (Luo, Cui & Li, Color Research
& Application 31(4), 2006), a colour space built so that distance follows perceived
difference.

**Threshold: ΔE ≥ 10.** In CAM02-UCS a just-noticeable difference between two large patches
side by side is about 1 to 3 units. Charts are harder than that: marks are small (a line, a
point, a legend swatch) and the two colours to compare are often apart, and crowdsourced
studies find that the difference people need grows as marks shrink, to several times the
laboratory value (Stone, Szafir & Setlur, "An Engineering Model for Color Difference as a
Function of Size", Color and Imaging Conference 2014; Szafir, "Modeling Color Difference for
Visualization Design", IEEE TVCG 24(1), 2018). We ask for 10 units, three to ten
just-noticeable differences, as "clearly different at a glance" for colours that must be
told apart in one figure. It is a threshold a palette designed for colour-vision deficiency
meets (the eight Okabe–Ito colours keep at least 11.0 under all three simulations; the
closest pair is orange and reddish purple under tritanopia) and a palette that was not
fails (matplotlib's default ``tab10`` red and green come within 5.2 under deuteranopia; its
closest pair under protanopia is 1.6 apart): the test below checks both.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

import numpy as np
from colorspacious import cspace_convert, deltaE
from matplotlib.colors import to_rgb

__all__ = [
    "CVD_TYPES",
    "THRESHOLD",
    "assert_distinguishable",
    "closest_pair",
    "delta_e",
    "lightness",
    "simulate",
]

Vision = Literal["deuteranomaly", "protanomaly", "tritanomaly"] | None

#: The three simulated deficiencies, each at severity 100 (dichromacy).
CVD_TYPES: tuple[Vision, ...] = ("deuteranomaly", "protanomaly", "tritanomaly")
#: The least CAM02-UCS difference between two colours that must be told apart (see above).
THRESHOLD = 10.0


def simulate(rgb: np.ndarray, vision: Vision) -> np.ndarray:
    """sRGB in [0, 1] as seen with ``vision`` (``None`` = normal colour vision)."""
    if vision is None:
        return np.clip(rgb, 0.0, 1.0)
    cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
    return np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0.0, 1.0)


def delta_e(a: str, b: str, vision: Vision = None) -> float:
    """CAM02-UCS difference between two colours as seen with ``vision``."""
    sa, sb = simulate(np.array(to_rgb(a)), vision), simulate(np.array(to_rgb(b)), vision)
    return float(deltaE(sa, sb, input_space="sRGB1", uniform_space="CAM02-UCS"))


def lightness(rgb: np.ndarray, vision: Vision = None) -> np.ndarray:
    """CAM02-UCS lightness J' of each row of an (n, 3) sRGB array as seen with ``vision``."""
    return cspace_convert(simulate(rgb, vision), "sRGB1", "CAM02-UCS")[..., 0]


def closest_pair(colors: Sequence[str]) -> tuple[float, str, str, Vision]:
    """The two colours that come closest under any vision: ``(ΔE, a, b, vision)``."""
    best: tuple[float, str, str, Vision] = (float("inf"), "", "", None)
    for vision in (None, *CVD_TYPES):
        for a, b in itertools.combinations(dict.fromkeys(colors), 2):
            d = delta_e(a, b, vision)
            if d < best[0]:
                best = (d, a, b, vision)
    return best


def assert_distinguishable(
    colors: Sequence[str], *, threshold: float = THRESHOLD, what: str = "colours"
) -> None:
    """Fail unless every pair of ``colors`` stays ``threshold`` apart under every vision."""
    d, a, b, vision = closest_pair(colors)
    assert d >= threshold, (
        f"{what}: {a} and {b} are only ΔE={d:.1f} apart in CAM02-UCS as seen with "
        f"{vision or 'normal vision'} (need >= {threshold})"
    )
