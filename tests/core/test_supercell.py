"""The supercell rule: every periodic image ≥ L away, and no smaller supercell does it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pymatgen.core import Lattice

from sseflows.core.supercell import minimal_supercell_matrix, supercell_lengths

LATTICES = {
    "cubic": Lattice.cubic(4.0),
    "tetragonal": Lattice.tetragonal(3.0, 7.0),
    "hexagonal": Lattice.hexagonal(3.2, 5.1),
    "triclinic": Lattice.from_parameters(4.1, 5.3, 6.2, 70, 80, 110),
}


def _short_vectors(lattice: Lattice, length: float, reach: int = 8) -> np.ndarray:
    """Brute force: integer n in [-reach, reach]^3, n != 0, with |n A| < length."""
    grid = np.array(list(itertools.product(range(-reach, reach + 1), repeat=3)))
    grid = grid[np.any(grid != 0, axis=1)]
    return grid[np.linalg.norm(grid @ lattice.matrix, axis=1) < length - 1e-8]


def _contains_any(matrices: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """For each integer matrix, whether its row lattice contains one of ``vectors``."""
    inverse = np.linalg.inv(matrices.astype(float))
    coefficients = np.einsum("kj,mji->mki", vectors.astype(float), inverse)
    integral = np.all(np.abs(coefficients - np.rint(coefficients)) < 1e-6, axis=2)
    return integral.any(axis=1)


@pytest.mark.parametrize("name", sorted(LATTICES))
def test_all_lengths_at_least_l_and_no_smaller_supercell(name: str) -> None:
    lattice, length = LATTICES[name], 10.0
    matrix = minimal_supercell_matrix(lattice, length)
    det = round(np.linalg.det(matrix))
    assert det > 0
    assert min(supercell_lengths(lattice, matrix)) >= length
    # No translation of the supercell lattice (not only its basis) is shorter than L.
    assert not _contains_any(matrix[None], _short_vectors(lattice, length))[0]

    # Brute force: every integer matrix with entries in -1..2 and a smaller positive det
    # has some lattice translation shorter than L.
    entries = np.array(list(itertools.product(range(-1, 3), repeat=9))).reshape(-1, 3, 3)
    dets = np.rint(np.linalg.det(entries.astype(float))).astype(int)
    smaller = entries[(dets > 0) & (dets < det)]
    assert len(smaller) > 1000
    assert _contains_any(smaller, _short_vectors(lattice, length)).all()


def test_cubic_cell_gives_the_fcc_superlattice() -> None:
    """a = 4 Å, L = 10 Å: 3×3×3 (27 cells, 12 Å) is beaten by the fcc superlattice spanned
    by (2,2,0), (0,2,2), (2,0,2): 16 cells, every image 4·2√2 = 11.31 Å away; the packing
    bound L³/(√2 a³) = 11.05 cells leaves 12..15 to the brute-force test above."""
    matrix = minimal_supercell_matrix(Lattice.cubic(4.0), 10.0)
    assert round(np.linalg.det(matrix)) == 16
    assert supercell_lengths(Lattice.cubic(4.0), matrix) == pytest.approx([8 * 2**0.5] * 3)


def test_orthogonal_cell_long_enough_is_kept() -> None:
    lattice = Lattice.orthorhombic(10.3, 11.0, 12.0)
    assert minimal_supercell_matrix(lattice, 10.0).tolist() == np.eye(3, dtype=int).tolist()


def test_diagonal_when_only_one_axis_is_short() -> None:
    """10.5 × 10.5 × 4 Å: a 1×1×3 stack (12 Å) is the smallest."""
    matrix = minimal_supercell_matrix(Lattice.tetragonal(10.5, 4.0), 10.0)
    assert round(np.linalg.det(matrix)) == 3
    assert min(supercell_lengths(Lattice.tetragonal(10.5, 4.0), matrix)) >= 10.0


def test_max_atoms_exceeded_raises_a_sentence() -> None:
    with pytest.raises(ValueError, match="max_atoms=50"):
        minimal_supercell_matrix(Lattice.cubic(4.0), 10.0, max_atoms=50, n_sites=8)


def test_max_atoms_not_exceeded() -> None:
    matrix = minimal_supercell_matrix(Lattice.cubic(4.0), 10.0, max_atoms=128, n_sites=8)
    assert round(np.linalg.det(matrix)) == 16


def test_non_positive_length_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        minimal_supercell_matrix(Lattice.cubic(4.0), 0.0)
