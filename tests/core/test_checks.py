"""Structure sanity checks: empty, Li-free, huge and overlapping cells fail with a reason."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.checks import check_candidate_structure
from sseflows.core.errors import CandidateError


def li2o(a: float = 4.61) -> Structure:
    """Antifluorite Li2O, 12 sites in the conventional cell."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def test_good_structure_passes() -> None:
    check_candidate_structure("li2o", li2o())


def test_no_lithium() -> None:
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0] * 3, [0.5] * 3]
    )
    with pytest.raises(CandidateError, match="Candidate 'nacl': NaCl contains no lithium"):
        check_candidate_structure("nacl", nacl)


def test_too_many_sites() -> None:
    big = li2o()
    big.make_supercell([2, 2, 2])  # 96 sites
    with pytest.raises(CandidateError, match="has 96 sites, above the limit of 50"):
        check_candidate_structure("big", big, max_sites=50)
    check_candidate_structure("big", big, max_sites=96)


def test_empty_structure() -> None:
    empty = Structure(Lattice.cubic(3.0), [], [])
    with pytest.raises(CandidateError, match="empty"):
        check_candidate_structure("empty", empty)


def test_overlapping_full_atoms() -> None:
    s = li2o()
    s.append("Li", s[0].coords + np.array([0.3, 0, 0]), coords_are_cartesian=True)
    with pytest.raises(CandidateError, match=r"overlap: they are 0\.30 Å apart"):
        check_candidate_structure("clash", s)


def test_split_partial_sites_are_not_an_overlap() -> None:
    """Two half-occupied Li positions 0.3 Å apart (a split site) are a disorder model."""
    s = li2o()
    li = s[0].coords
    s.remove_sites([0])
    s.append({"Li": 0.5}, li, coords_are_cartesian=True)
    s.append({"Li": 0.54}, li + np.array([0.3, 0, 0]), coords_are_cartesian=True)
    check_candidate_structure("split", s)
