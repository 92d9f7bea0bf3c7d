"""Text in both themes keeps a WCAG contrast of at least 4.5:1 against what it sits on.

The colours are read from the stylesheet the site serves, so a new colour that is too faint
fails here rather than in someone's eyes.
"""

from __future__ import annotations

import re

import pytest

from dailypapers.web.templating import STATIC

# (text colour, background) pairs the stylesheet puts together.
PAIRS = [
    ("--text", "--bg"), ("--muted", "--bg"), ("--muted", "--surface"), ("--link", "--bg"),
    ("--link", "--surface"), ("--text", "--badge"), ("--text", "--mark"), ("--bg", "--accent"),
    ("--text", "--surface"),
]  # fmt: skip
AA_NORMAL_TEXT = 4.5


def _theme(block_start: str) -> dict[str, str]:
    css = (STATIC / "style.css").read_text()
    block = css[css.index(block_start) :]
    block = block[block.index("{") + 1 : block.index("}")]
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))


THEMES = {"light": _theme(":root {"), "dark": _theme(':root[data-theme="dark"] {')}


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("fore", "back"), PAIRS)
def test_text_is_readable(theme: str, fore: str, back: str) -> None:
    colours = THEMES[theme]
    ratio = contrast(colours[fore], colours[back])
    assert ratio >= AA_NORMAL_TEXT, f"{theme}: {fore} on {back} is {ratio:.2f}:1"


def test_the_system_dark_theme_is_the_chosen_dark_theme() -> None:
    css = (STATIC / "style.css").read_text()
    system = css[css.index(':root:not([data-theme="light"]) {') :]
    system_block = dict(
        re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", system[: system.index("}")])
    )
    assert system_block == THEMES["dark"]
