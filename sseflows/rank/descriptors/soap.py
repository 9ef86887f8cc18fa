"""SOAP on the simplified structure (Laskowski 2023's SOAP-CAN), optionally + sine matrix.

Laskowski, McHaffie and See found SOAP with ``average="outer"`` on their CAN simplification
(here ``substituted-noli``: Li removed, cations → Al, anions → S, neutrals → Mg) the best
of 180 representations; r_cut, n_max and l_max matter little, and [2 Å, 4, 2] was best
for 2–100 clusters [001 L1018–1022]. The Gaussian width is not stated; their public code
uses DScribe's default, σ = 1 Å. Only Al, S and Mg occur, so the vector has a small fixed
length whatever the chemistry: (3·n_max)(3·n_max + 1)/2 · (l_max + 1) = 234 numbers for the
default [4, 2].

Their second-order descriptor joins α·(sine Coulomb matrix of the *unsimplified*
structure), α = 2–4 × 10⁻⁶, for 2–3 % lower W_σ [001 L1052–1054]. Here the sine matrix
enters as its eigenvalue spectrum (:func:`sine_matrix`, eigenvalues sorted by decreasing
magnitude, Hartree; matminer's ``SineCoulombMatrix(flatten=True)``, which Laskowski et al.
used, returns the same eigenvalues unsorted), truncated or zero-padded to ``sine_length``
so that structures of any size compare. ``sine_alpha = 0`` (the default of ``soap``)
leaves it out; ``soap-sine`` sets α = 3 × 10⁻⁶.

Both parts are computed on the ordered approximant of :mod:`.disorder` (the simplified
structure for SOAP, the original for the sine matrix). Composition-only rows fail with
"needs a structure"; a structure whose oxidation states cannot be assigned fails with the
simplification's reason.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Structure

from sseflows.core.errors import CandidateError
from sseflows.core.simplify import PROXY, SCHEMES, simplify
from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    register,
)
from sseflows.rank.descriptors.disorder import (
    DEFAULT_MIN_DISTANCE_A,
    DEFAULT_SEED,
    OrderedApproximant,
)

DEFAULT_SCHEME = "substituted-noli"
DEFAULT_R_CUT_A = 2.0
DEFAULT_N_MAX = 4
DEFAULT_L_MAX = 2
DEFAULT_SIGMA_A = 1.0
DEFAULT_SINE_LENGTH = 128
SOAP_SINE_ALPHA = 3e-6
"""α of the ``soap-sine`` representation (middle of Laskowski's 2–4 × 10⁻⁶)."""

BOHR_PER_ANGSTROM = 1 / 0.52917721067
"""As matminer's ``ANG_TO_BOHR``: the sine matrix is in atomic units."""


def _soap_species(scheme: str) -> list[str]:
    kept = SCHEMES[scheme].kept
    return [PROXY[c] for c in "CANM" if c in kept]


@functools.cache
def _soap(species: tuple[str, ...], r_cut: float, n_max: int, l_max: int, sigma: float) -> Any:
    from dscribe.descriptors import SOAP

    return SOAP(
        species=list(species),
        r_cut=r_cut,
        n_max=n_max,
        l_max=l_max,
        sigma=sigma,
        periodic=True,
        average="outer",
        sparse=False,
    )


def sine_matrix(structure: Structure) -> np.ndarray:
    """Sine Coulomb matrix of an ordered ``structure`` (Faber et al. 2015, as in matminer
    used by Laskowski et al.): M_ii = Z_i^2.4 / 2, M_ij = Z_i Z_j / |Σ_k a_k sin²(π Δf_k)| with
    a_k the lattice vectors in bohr and Δf the fractional separation; units Hartree."""
    z = np.array([site.specie.Z for site in structure], dtype=float)
    delta = structure.frac_coords[:, None, :] - structure.frac_coords[None, :, :]
    cartesian = (np.sin(np.pi * delta) ** 2) @ (structure.lattice.matrix * BOHR_PER_ANGSTROM)
    with np.errstate(divide="ignore"):
        matrix = np.outer(z, z) / np.linalg.norm(cartesian, axis=-1)
    np.fill_diagonal(matrix, 0.5 * z**2.4)
    return matrix


def sine_spectrum(structure: Structure, length: int) -> np.ndarray:
    """Eigenvalues of :func:`sine_matrix`, sorted by decreasing magnitude, truncated or
    zero-padded to ``length``."""
    values = np.linalg.eigvalsh(sine_matrix(structure))
    values = values[np.argsort(-np.abs(values), kind="stable")]
    out = np.zeros(length)
    out[: min(length, values.size)] = values[:length]
    return out


@dataclass
class SoapRepresentation(Representation):
    """SOAP (outer average) of the simplified structure, optionally + α·sine spectrum.

    Attributes:
        scheme: Simplification (project name, :data:`sseflows.core.simplify.SCHEMES`);
            must substitute species, so that the species list is fixed.
        r_cut: Cutoff radius, Å.
        n_max: Radial basis functions.
        l_max: Largest spherical-harmonics degree.
        sigma: Gaussian width, Å.
        sine_alpha: Weight of the sine-matrix spectrum; 0 leaves it out.
        sine_length: Eigenvalues kept (padded with zeros), when ``sine_alpha > 0``.
        seed, min_distance_a: The ordered approximant's settings (:mod:`.disorder`).
    """

    scheme: str = DEFAULT_SCHEME
    r_cut: float = DEFAULT_R_CUT_A
    n_max: int = DEFAULT_N_MAX
    l_max: int = DEFAULT_L_MAX
    sigma: float = DEFAULT_SIGMA_A
    sine_alpha: float = 0.0
    sine_length: int = DEFAULT_SINE_LENGTH
    seed: int = DEFAULT_SEED
    min_distance_a: float = DEFAULT_MIN_DISTANCE_A
    name: str = field(default="soap", init=False)
    needs_structure: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES or not SCHEMES[self.scheme].substituted:
            substituted = sorted(n for n, s in SCHEMES.items() if s.substituted)
            raise ValueError(f"SOAP needs a substituted scheme, one of {substituted}")
        if self.sine_alpha > 0:
            self.name = "soap-sine"

    @property
    def species(self) -> list[str]:
        """Elements of the simplified structures (Al, S, Mg and Li when kept)."""
        return _soap_species(self.scheme)

    def _descriptor(self) -> Any:
        return _soap(tuple(self.species), self.r_cut, self.n_max, self.l_max, self.sigma)

    def _approximant(self) -> OrderedApproximant:
        return OrderedApproximant(self.seed, self.min_distance_a)

    def settings(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "r_cut": self.r_cut,
            "n_max": self.n_max,
            "l_max": self.l_max,
            "sigma": self.sigma,
            "sine_alpha": self.sine_alpha,
            "sine_length": self.sine_length if self.sine_alpha > 0 else 0,
            "seed": self.seed,
            "min_distance_a": self.min_distance_a,
        }

    def feature_names(self) -> list[str]:
        n_soap = int(self._descriptor().get_number_of_features())
        names = [f"soap_{i}" for i in range(n_soap)]
        if self.sine_alpha > 0:
            names += [f"sine_eig_{i}" for i in range(self.sine_length)]
        return names

    def vector(self, structure: Structure, candidate_id: str = "structure") -> np.ndarray:
        """The feature vector of one structure (ordered or not).

        Raises:
            CandidateError: when the simplification or the approximant fails.
        """
        from pymatgen.io.ase import AseAtomsAdaptor

        approximant = self._approximant()
        simplified = approximant(
            simplify(structure, self.scheme, candidate_id=candidate_id), candidate_id
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            soap = np.asarray(
                self._descriptor().create(AseAtomsAdaptor.get_atoms(simplified)), dtype=float
            ).ravel()
        if self.sine_alpha <= 0:
            return soap
        original = approximant(structure, candidate_id)
        return np.concatenate([soap, self.sine_alpha * sine_spectrum(original, self.sine_length)])

    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        names = self.feature_names()
        X = np.full((len(inputs), len(names)), np.nan)
        failures: dict[str, str] = {}
        for i, row in enumerate(inputs):
            if row.structure is None:
                failures[row.id] = f"{self.name} needs a structure and {row.id} has none"
                continue
            try:
                X[i] = self.vector(row.structure, row.id)
            except CandidateError as exc:
                failures[row.id] = str(exc)
            except Exception as exc:  # DScribe/ASE errors on odd cells
                failures[row.id] = f"{self.name} features of {row.id} cannot be computed ({exc})"
        return FeatureMatrix([r.id for r in inputs], X, names, failures)


@register("soap")
def soap(**settings: Any) -> SoapRepresentation:
    """SOAP-CAN with Laskowski's best settings for 2–100 clusters."""
    return SoapRepresentation(**settings)


@register("soap-sine")
def soap_sine(**settings: Any) -> SoapRepresentation:
    """SOAP-CAN ∪ α·sine-matrix spectrum (α = :data:`SOAP_SINE_ALPHA` unless given)."""
    settings.setdefault("sine_alpha", SOAP_SINE_ALPHA)
    return SoapRepresentation(**settings)
