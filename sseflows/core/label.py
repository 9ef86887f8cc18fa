"""Conductivity labels: measured or computed σ_RT for a composition (and maybe a structure)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymatgen.core import Structure

LabelKind = Literal["experimental", "computed"]


class Label(BaseModel):
    """One conductivity label.

    Attributes:
        label_id: Stable id, unique within the label store (e.g. ``obelix:jqc``).
        formula: Reduced formula.
        structure: Structure the value belongs to, when known.
        sigma_rt_s_per_cm: Room-temperature ionic conductivity, S/cm. ``None`` when only an
            upper bound is known (see ``sigma_upper_bound``).
        log10_sigma_rt: log10 of σ_RT in S/cm (filled from ``sigma_rt_s_per_cm``); for an
            upper bound, log10 of the bound.
        sigma_upper_bound: True when the source reports ``< value``; the bound (S/cm) is in
            ``provenance["sigma_bound_s_per_cm"]``.
        ea_ev: Activation energy, eV.
        temperature_k: Temperature of the measurement or extrapolation, K.
        kind: ``experimental`` or ``computed``.
        method: For computed labels: ``bvse``, ``neb-qe``, ``md-chgnet``, ``aimd-vasp``, ...
        reference: DOI or citation.
        source: Data set the label came from (``obelix``, ``laskowski2023``, a campaign).
        provenance: Free-form (file, row, campaign, job uuid).
        fidelity: For computed labels, how far to trust the number: at least ``engine`` and
            ``converged`` (only converged, valid results become labels), plus what the tier
            adds (NEB: ``climbing_image``, ``n_images``; MD: ``n_fitted``, ``ea_err_ev``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    label_id: str
    formula: str
    structure: Structure | None = None
    sigma_rt_s_per_cm: float | None = None
    log10_sigma_rt: float | None = None
    sigma_upper_bound: bool = False
    ea_ev: float | None = None
    temperature_k: float = 298.15
    kind: LabelKind = "experimental"
    method: str | None = None
    reference: str | None = None
    source: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)
    fidelity: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fill_log10(self) -> Label:
        if self.sigma_rt_s_per_cm is not None and self.log10_sigma_rt is None:
            if self.sigma_rt_s_per_cm <= 0:
                raise ValueError("sigma_rt_s_per_cm must be positive")
            self.log10_sigma_rt = math.log10(self.sigma_rt_s_per_cm)
        if self.kind == "computed" and not self.method:
            raise ValueError("computed labels need a method")
        return self
