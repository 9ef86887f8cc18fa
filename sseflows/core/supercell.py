"""The smallest supercell whose periodic images are at least ``min_length`` apart.

The CI-NEB protocol (Laskowski 2023) asks for a supercell "≥ 10 Å along every lattice
vector" so that the Li vacancy does not see its own periodic images. A non-reduced basis can
have arbitrarily long vectors around short lattice translations (a sheared unimodular
matrix keeps the unit cell), so the rule is applied to the *reduced* basis: the supercell
lattice's shortest non-zero translation must be ≥ ``min_length``. The returned basis is
Niggli reduced, hence every one of its three vectors is ≥ ``min_length`` as well.

Search: every superlattice of index ``N`` has exactly one lower-triangular Hermite normal
form ``H = [[a,0,0],[b,c,0],[d,e,f]]`` with ``a·c·f = N``, ``0 ≤ b, d < a``, ``0 ≤ e < c``.
``N`` runs upward from the packing bound ``L³/(√2 V)`` (no lattice with minimum distance
``L`` is denser than fcc); a superlattice is valid when none of the unit-cell translations
shorter than ``L`` belongs to it. The first ``N`` with a valid superlattice is the minimum;
ties are broken by the most compact reduced cell (smallest sum of lengths), then by the
most diagonal matrix. ``ceil(L/s)`` times the unit cell (``s`` its shortest translation)
always satisfies the rule and bounds the search.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from pymatgen.core import Lattice


def short_translations(lattice: Lattice, min_length: float) -> np.ndarray:
    """Integer vectors ``n ≠ 0`` with ``|n @ lattice.matrix| < min_length`` (Å), shape (k, 3)."""
    recip_lengths = np.linalg.norm(np.linalg.inv(lattice.matrix).T, axis=1)
    bounds = np.floor(min_length * recip_lengths).astype(int)
    axes = [np.arange(-b, b + 1) for b in bounds]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    lengths = np.linalg.norm(grid @ lattice.matrix, axis=1)
    keep = (lengths < min_length - 1e-8) & np.any(grid != 0, axis=1)
    return grid[keep]


def _valid_hnfs(short: np.ndarray, n_cells: int) -> list[np.ndarray]:
    """Hermite normal forms of index ``n_cells`` that contain none of ``short``."""
    valid: list[np.ndarray] = []
    n1, n2, n3 = short[:, 0], short[:, 1], short[:, 2]
    for a in range(1, n_cells + 1):
        if n_cells % a:
            continue
        for c in range(1, n_cells // a + 1):
            if (n_cells // a) % c:
                continue
            f = n_cells // (a * c)
            # k3 = n3 / f must be an integer for a short vector to lie in the superlattice.
            in3 = n3 % f == 0
            if not in3.any():
                valid.extend(_all_hnfs(a, c, f))
                continue
            s1, s2, k3 = n1[in3], n2[in3], n3[in3] // f
            for e in range(c):
                r2 = s2 - k3 * e
                in2 = r2 % c == 0
                k2 = r2[in2] // c
                for b, d in itertools.product(range(a), repeat=2):
                    r1 = s1[in2] - k3[in2] * d
                    if np.any((r1 - k2 * b) % a == 0):
                        continue
                    valid.append(np.array([[a, 0, 0], [b, c, 0], [d, e, f]]))
    return valid


def _all_hnfs(a: int, c: int, f: int) -> list[np.ndarray]:
    return [
        np.array([[a, 0, 0], [b, c, 0], [d, e, f]])
        for b in range(a)
        for d in range(a)
        for e in range(c)
    ]


def _reduced_matrix(hnf: np.ndarray, lattice: Lattice) -> np.ndarray:
    """Integer matrix of the Niggli-reduced basis of the superlattice ``hnf``, aligned with
    the unit-cell axes (diagonal-dominant, positive diagonal, det > 0)."""
    reduced = Lattice(hnf @ lattice.matrix).get_niggli_reduced_lattice()
    matrix = np.rint(reduced.matrix @ np.linalg.inv(lattice.matrix)).astype(int)
    best = None
    for perm in itertools.permutations(range(3)):
        candidate = matrix[list(perm)].copy()
        score = -sum(abs(candidate[i, i]) for i in range(3))
        if best is None or score < best[0]:
            best = (score, candidate)
    assert best is not None
    matrix = best[1]
    for i in range(3):
        if matrix[i, i] < 0 or (matrix[i, i] == 0 and matrix[i].sum() < 0):
            matrix[i] *= -1
    if round(np.linalg.det(matrix)) < 0:
        weakest = int(np.argmin([abs(matrix[i, i]) for i in range(3)]))
        matrix[weakest] *= -1
    return matrix


def _tie_key(matrix: np.ndarray, lattice: Lattice) -> tuple[float, int, tuple[int, ...]]:
    lengths = np.linalg.norm(matrix @ lattice.matrix, axis=1)
    off_diagonal = int(np.abs(matrix).sum() - np.abs(np.diag(matrix)).sum())
    return (round(float(lengths.sum()), 6), off_diagonal, tuple(-matrix.ravel()))


def minimal_supercell_matrix(
    lattice: Lattice,
    min_length: float = 10.0,
    max_atoms: int | None = None,
    n_sites: int | None = None,
) -> np.ndarray:
    """Integer 3×3 matrix ``M`` (supercell lattice = ``M @ lattice.matrix``) of the smallest
    supercell whose shortest lattice translation is ≥ ``min_length``.

    Args:
        lattice: Unit-cell lattice (Å).
        min_length: Minimum distance between periodic images, Å.
        max_atoms: Largest supercell allowed, in atoms (needs ``n_sites``).
        n_sites: Atoms in the unit cell.

    Returns:
        ``M`` with ``det(M) > 0`` equal to the number of unit cells, the smallest possible;
        its rows (a Niggli-reduced basis) are each ≥ ``min_length`` long.

    Raises:
        ValueError: ``min_length`` is not positive, or the smallest supercell has more than
            ``max_atoms`` atoms.
    """
    if min_length <= 0:
        raise ValueError(f"min_length must be positive, got {min_length} Å.")
    short = short_translations(lattice, min_length)
    shortest = float(np.min(np.linalg.norm(short @ lattice.matrix, axis=1))) if len(short) else 0
    if len(short) == 0:
        return np.eye(3, dtype=int)
    upper = math.ceil(min_length / shortest - 1e-9) ** 3
    lower = max(1, math.ceil(min_length**3 / (math.sqrt(2.0) * lattice.volume) - 1e-9))
    for n_cells in range(lower, upper + 1):
        if max_atoms is not None and n_sites is not None and n_cells * n_sites > max_atoms:
            raise ValueError(
                f"A supercell with periodic images ≥ {min_length:g} Å apart needs at least "
                f"{n_cells} unit cells ({n_cells * n_sites} atoms), more than max_atoms="
                f"{max_atoms}."
            )
        hnfs = _valid_hnfs(short, n_cells)
        if hnfs:
            matrices = [_reduced_matrix(h, lattice) for h in hnfs]
            return min(matrices, key=lambda m: _tie_key(m, lattice))
    raise AssertionError("unreachable: the scaled unit cell always satisfies the rule")


def supercell_lengths(lattice: Lattice, matrix: np.ndarray) -> list[float]:
    """Lattice-vector lengths (Å) of the supercell ``matrix @ lattice.matrix``."""
    return [float(x) for x in np.linalg.norm(np.asarray(matrix) @ lattice.matrix, axis=1)]
