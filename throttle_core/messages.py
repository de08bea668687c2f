"""Values as error messages show them: bounded, whatever a user or a storage handed in."""

from __future__ import annotations

import math
import reprlib

_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 3, 60, 60

HUGE = 10**30
"""Integers from this size on are shown by their order of magnitude."""


def short(value: object) -> str:
    """A bounded repr for messages: safe on values nested too deep for `repr`, and integers
    too long to read shown as "about 10**N"."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= HUGE:
        sign = "-" if value < 0 else ""
        return f"about {sign}10**{math.floor(math.log10(abs(value)))}"
    return _SHORT.repr(value)
