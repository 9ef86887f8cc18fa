"""Composition features: Magpie element statistics plus Li content.

Magpie: matminer's ``ElementProperty.from_preset("magpie")``, 22 element properties × 6
statistics (minimum, maximum, range, mean, average deviation, mode) = 132 columns; its
element tables ship in the matminer wheel (``utils/data_files/magpie_elementdata``), so
nothing is downloaded. Missing element data is imputed by matminer (``impute_nan=True``).

Li content (Kang et al. [004], who rank on composition features alone):

* ``li_fraction`` — Li atoms / all atoms (Li3PS4: 3/8); independent of the cell.
* ``li_per_formula_unit`` — Li in pymatgen's reduced formula (Li3PS4 and Li12P4S16: 3).
  pymatgen reduces only integral compositions, so a fractional (disordered) cell
  composition such as Li24.2P3.8Si0.2S20Br4 counts per cell, not per Li6.05P0.95Si0.05S5Br
  formula; pass the formula's composition when that matters.

Works on composition-only rows; species' oxidation states are ignored.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymatgen.core import Composition

from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    register,
)

MAGPIE_PRESET = "magpie"
LI_COLUMNS = ["li_fraction", "li_per_formula_unit"]


@functools.cache
def _element_property() -> Any:
    from matminer.featurizers.composition import ElementProperty

    return ElementProperty.from_preset(MAGPIE_PRESET)


def li_content(composition: Composition) -> tuple[float, float]:
    """(Li atomic fraction, Li per reduced formula unit) of ``composition``."""
    plain = composition.element_composition
    n_atoms = plain.num_atoms
    if n_atoms <= 0:
        raise ValueError("the composition is empty")
    reduced, _ = plain.get_reduced_composition_and_factor()
    return float(plain["Li"] / n_atoms), float(reduced["Li"])


@register("magpie")
@dataclass
class MagpieRepresentation(Representation):
    """Magpie's 132 element statistics plus :data:`LI_COLUMNS` (134 columns).

    Attributes:
        li_content: Append :data:`LI_COLUMNS` (Kang et al.).
        preset: matminer's preset; only ``"magpie"`` (recorded for provenance).
    """

    li_content: bool = True
    preset: str = MAGPIE_PRESET
    name: str = field(default="magpie", init=False)
    needs_structure: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.preset != MAGPIE_PRESET:
            raise ValueError(f"the magpie representation uses preset {MAGPIE_PRESET!r} only")

    def settings(self) -> dict[str, Any]:
        return {"preset": self.preset, "li_content": self.li_content}

    def feature_names(self) -> list[str]:
        names = list(_element_property().feature_labels())
        return names + list(LI_COLUMNS) if self.li_content else names

    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        names = self.feature_names()
        X = np.full((len(inputs), len(names)), np.nan)
        failures: dict[str, str] = {}
        featurizer = _element_property()
        for i, row in enumerate(inputs):
            try:
                plain = row.composition.element_composition
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    magpie = featurizer.featurize(plain)
                X[i] = [*magpie, *li_content(plain)] if self.li_content else magpie
            except Exception as exc:  # matminer raises many types on odd elements
                failures[row.id] = (
                    f"Magpie features of {row.id} ({row.composition.reduced_formula}) "
                    f"cannot be computed ({exc})"
                )
                X[i] = np.nan
        return FeatureMatrix([r.id for r in inputs], X, names, failures)
