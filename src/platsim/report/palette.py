"""Colours of the report's figures: the Okabe–Ito palette, one colour per arm.

Okabe & Ito (2008) chose these eight colours to stay distinguishable under the common
forms of colour-vision deficiency and in greyscale print. Each arm keeps its colour in
every figure of a report: the control arm is black, the other arms take the remaining
colours in the scenario's arm order (yellow last: it is faint on white).
"""

from __future__ import annotations

from collections.abc import Sequence

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Colours for the experimental arms, in order.
_ARM_ORDER: tuple[str, ...] = (
    OKABE_ITO["orange"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["yellow"],
)

#: Line styles used, in turn, when a scenario has more arms than colours.
_LINE_STYLES: tuple[str, ...] = ("-", "--", ":", "-.")

#: Neutral grey for trial-level quantities (no arm).
NEUTRAL = "#7F7F7F"


def arm_colours(arm_ids: Sequence[str], control: str | None) -> dict[str, str]:
    """Each arm's colour: black for the control, then Okabe–Ito in arm order (cycled)."""
    colours: dict[str, str] = {}
    index = 0
    for arm in arm_ids:
        if arm == control:
            colours[arm] = OKABE_ITO["black"]
        else:
            colours[arm] = _ARM_ORDER[index % len(_ARM_ORDER)]
            index += 1
    return colours


def arm_line_styles(arm_ids: Sequence[str], control: str | None) -> dict[str, str]:
    """Solid lines, until colours repeat; then the next line style (so arms stay distinct)."""
    styles: dict[str, str] = {}
    index = 0
    for arm in arm_ids:
        if arm == control:
            styles[arm] = "-"
        else:
            styles[arm] = _LINE_STYLES[(index // len(_ARM_ORDER)) % len(_LINE_STYLES)]
            index += 1
    return styles
