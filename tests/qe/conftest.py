"""Structures shared by the QE tier's tests."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure


def make_lih_vacancy() -> Structure:
    """Rock-salt LiH (a = 4 Å, conventional cell) with one Li removed: 3 Li + 4 H."""
    s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.0), ["Li", "H"], [[0, 0, 0], [0.5, 0, 0]]
    )
    s.remove_sites([0])
    return s


@pytest.fixture
def lih_vacancy() -> Structure:
    """See :func:`make_lih_vacancy`."""
    return make_lih_vacancy()
