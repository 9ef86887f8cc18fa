"""Percolation barriers of hand-made hop networks and of MigrationGraph-labelled hops."""

from __future__ import annotations

import pytest

from sseflows.core.hops import enumerate_li_hops
from sseflows.core.percolation import (
    HopEdge,
    migration_graph_edges,
    percolation_barriers,
    periodic_dimension,
)
from sseflows.data.prototypes import pymatgen_structure


def _cubic(*hops: tuple[tuple[int, int, int], int]) -> list[HopEdge]:
    """One Li per cell (a simple cubic Li sublattice); each hop to the image ``t``."""
    return [HopEdge(0, 0, t, index) for t, index in hops]


def test_periodic_dimension_is_the_rank_of_the_cycle_translations() -> None:
    assert periodic_dimension(1, []) == 0
    assert periodic_dimension(1, [(0, 0, (1, 0, 0))]) == 1
    assert periodic_dimension(1, [(0, 0, (1, 0, 0)), (0, 0, (2, 0, 0))]) == 1
    assert periodic_dimension(1, [(0, 0, (1, 0, 0)), (0, 0, (1, 1, 0))]) == 2
    assert periodic_dimension(2, [(0, 1, (0, 0, 0)), (1, 0, (0, 0, 1))]) == 1
    assert periodic_dimension(2, [(0, 1, (0, 0, 0)), (1, 0, (0, 0, 0))]) == 0


def test_simple_cubic_with_one_barrier_per_axis() -> None:
    """Hops along x (0.2 eV), y (0.5 eV), z (0.9 eV): each dimension opens with one axis."""
    edges = _cubic(((1, 0, 0), 0), ((0, 1, 0), 1), ((0, 0, 1), 2))
    result = percolation_barriers(edges, {0: 0.2, 1: 0.5, 2: 0.9})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (0.2, 0.5, 0.9)
    assert result.limiting_hops == (0, 1, 2)
    assert (result.dimension, result.limiting_hop) == (1, 0)


def test_a_diagonal_hop_opens_the_plane_before_the_second_axis() -> None:
    """With an xy face diagonal at 0.3 eV, x and the diagonal span the plane at 0.3 eV."""
    edges = _cubic(((1, 0, 0), 0), ((0, 1, 0), 1), ((0, 0, 1), 2), ((1, 1, 0), 3))
    result = percolation_barriers(edges, {0: 0.2, 1: 0.5, 2: 0.9, 3: 0.3})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (0.2, 0.3, 0.9)
    assert result.limiting_hops == (0, 3, 2)


def test_isotropic_cubic_percolates_in_every_dimension_at_once() -> None:
    edges = _cubic(((1, 0, 0), 0), ((0, 1, 0), 0), ((0, 0, 1), 0))
    result = percolation_barriers(edges, {0: 0.4})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (0.4, 0.4, 0.4)
    assert result.limiting_hops == (0, 0, 0)


def test_a_one_dimensional_chain_has_no_2d_or_3d_barrier() -> None:
    """Two Li per cell chained along x: A–B in the cell (0.3 eV), B–A' across it (0.6 eV);
    the chain needs both, so E_1D is the higher; a hop across the chain has no barrier."""
    edges = [
        HopEdge(0, 1, (0, 0, 0), 0),
        HopEdge(1, 0, (1, 0, 0), 1),
        HopEdge(0, 0, (0, 1, 0), 2),
    ]
    result = percolation_barriers(edges, {0: 0.3, 1: 0.6, 2: None})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (0.6, None, None)
    assert result.limiting_hops == (1, None, None)


def test_hops_that_do_not_percolate() -> None:
    """A Li pair joined only inside the cell (no path to any periodic image)."""
    result = percolation_barriers([HopEdge(0, 1, (0, 0, 0), 0)], {0: 0.1})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (None, None, None)
    assert result.dimension is None and result.limiting_hop is None
    assert percolation_barriers([], {}).dimension is None


def test_migration_graph_edges_carry_every_member_of_every_distinct_hop() -> None:
    """Li2O (primitive, simple cubic Li sublattice of a/2 = 2.33 Å): the a/2 hops (6 per
    cell) and the face diagonals (12) up to 3.5 Å, each edge labelled with its hop."""
    structure = pymatgen_structure("Li2O")
    hops = enumerate_li_hops(structure, 3.5)
    edges = migration_graph_edges(structure, hops, 3.5)
    assert len(hops) == 2
    assert sorted(e.hop_index for e in edges) == [0] * 6 + [1] * 12
    result = percolation_barriers(edges, {0: 0.3, 1: 1.0})
    assert (result.e1d_ev, result.e2d_ev, result.e3d_ev) == (0.3, 0.3, 0.3)


def test_lifepo4_channel_is_one_dimensional() -> None:
    """LiFePO4: the 3.0 Å hop alone forms the 1D channel; the plane needs a longer hop."""
    structure = pymatgen_structure("LiFePO4")
    hops = enumerate_li_hops(structure, 6.0)
    edges = migration_graph_edges(structure, hops, 6.0)
    assert {e.hop_index for e in edges} == set(range(len(hops)))
    assert sum(h.multiplicity for h in hops) == len(edges)
    barriers = {0: 0.3} | {i: 1.0 + i for i in range(1, len(hops))}
    result = percolation_barriers(edges, barriers)
    assert result.e1d_ev == pytest.approx(0.3)
    assert result.limiting_hops[0] == 0
    assert result.e2d_ev is not None and result.e2d_ev > 1.0
    assert result.e3d_ev is not None and result.e3d_ev >= result.e2d_ev
