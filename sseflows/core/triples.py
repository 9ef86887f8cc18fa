"""Three integers as a typed tuple: grid shapes, k-meshes and lattice translations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def int_triple(values: Iterable[Any]) -> tuple[int, int, int]:
    """``values`` (numpy integers, floats holding integers, …) as three Python ints.

    Raises:
        ValueError: when ``values`` does not hold exactly three numbers.
    """
    a, b, c = (int(x) for x in values)
    return a, b, c
