"""neb.x input: the &PATH namelist, the pw.x engine input, and the image positions.

Layout written (neb.x 6.x)::

    BEGIN
    BEGIN_PATH_INPUT
    &PATH ... /
    END_PATH_INPUT
    BEGIN_ENGINE_INPUT
    &CONTROL ... &SYSTEM ... &ELECTRONS ...
    ATOMIC_SPECIES ...
    BEGIN_POSITIONS
    FIRST_IMAGE / INTERMEDIATE_IMAGE (each) / LAST_IMAGE, each with ATOMIC_POSITIONS
    END_POSITIONS
    K_POINTS ... CELL_PARAMETERS ...
    END_ENGINE_INPUT
    END

All images share the first image's cell and atom order. ``num_of_images`` counts the
endpoints too; when intermediate images are given they seed the initial path.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Structure

from sseflows.qe.sets import PwInput, QeInput, _fortran, positions_card, render_namelists


@dataclass
class NebPathSettings:
    """The &PATH namelist of neb.x.

    Attributes:
        n_images: Intermediate images (``num_of_images`` = n_images + 2).
        path_thr_ev_per_ang: Convergence threshold on the NEB force orthogonal to the path, eV/Å.
        nstep_path: Maximum NEB iterations in one neb.x run.
        opt_scheme: Optimiser: broyden | broyden2 | quick-min | sd | langevin.
        ci_scheme: no-CI | auto | manual (climbing image).
        k_min / k_max: Spring constants, Ha/Bohr² (neb.x's "a.u.").
        ds: Optimisation step, Bohr.
        restart_mode: from_scratch | restart (restart reads ``<prefix>.path``).
        first_last_opt: Also relax the endpoints during the NEB.
    """

    n_images: int = 5
    path_thr_ev_per_ang: float = 0.05
    nstep_path: int = 100
    opt_scheme: str = "broyden"
    ci_scheme: str = "no-CI"
    k_min: float = 0.2
    k_max: float = 0.3
    ds: float = 1.0
    restart_mode: str = "from_scratch"
    first_last_opt: bool = False

    def namelist(self) -> dict[str, Any]:
        """The &PATH values, keyed as neb.x expects."""
        return {
            "string_method": "neb", "restart_mode": self.restart_mode,
            "nstep_path": self.nstep_path, "num_of_images": self.n_images + 2,
            "opt_scheme": self.opt_scheme, "CI_scheme": self.ci_scheme,
            "path_thr": self.path_thr_ev_per_ang, "k_min": self.k_min, "k_max": self.k_max,
            "ds": self.ds, "first_last_opt": self.first_last_opt,
        }  # fmt: skip


@dataclass
class NebInput(QeInput):
    """A neb.x input: the path namelist, an engine :class:`PwInput` and the image structures."""

    path: dict[str, Any]
    engine: PwInput
    images: list[Structure] = field(default_factory=list)

    def to_str(self) -> str:
        """The neb.x input text."""
        if len(self.images) < 2:
            raise ValueError("A NEB input needs at least the first and last images.")
        names = copy.deepcopy(self.engine.namelists)
        names.setdefault("control", {}).pop("calculation", None)
        names["system"].update(ibrav=0, nat=len(self.images[0]), ntyp=len(self.engine._species()))
        path_lines = [f"   {k} = {_fortran(v)}" for k, v in self.path.items() if v is not None]
        labels = ["FIRST_IMAGE"] + ["INTERMEDIATE_IMAGE"] * (len(self.images) - 2) + ["LAST_IMAGE"]
        positions = "".join(
            f"{label}\n{positions_card(image)}"
            for label, image in zip(labels, self.images, strict=True)
        )
        return (
            "BEGIN\nBEGIN_PATH_INPUT\n&PATH\n" + "\n".join(path_lines) + "\n/\nEND_PATH_INPUT\n"
            "BEGIN_ENGINE_INPUT\n" + render_namelists(names) + self.engine.species_card()
            + "BEGIN_POSITIONS\n" + positions + "END_POSITIONS\n"
            + self.engine.cell_and_kpoints() + "END_ENGINE_INPUT\nEND\n"
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the file error handlers edit between attempts)."""
        return {
            "path": self.path,
            "engine": self.engine.as_dict(),
            "images": [s.as_dict() for s in self.images],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NebInput:
        """Inverse of :meth:`as_dict`."""
        return cls(
            path=dict(d["path"]),
            engine=PwInput.from_dict(d["engine"]),
            images=[Structure.from_dict(s) for s in d["images"]],
        )


def make_neb_input(
    images: Sequence[Structure], engine: PwInput, settings: NebPathSettings, prefix: str = "neb"
) -> NebInput:
    """NEB input from images (endpoints included), an scf engine input and path settings."""
    engine = PwInput.from_dict(engine.as_dict())
    engine.namelists["control"]["prefix"] = prefix
    engine.namelists["control"].pop("calculation", None)
    for key in ("forc_conv_thr", "etot_conv_thr", "nstep", "tstress"):
        engine.namelists["control"].pop(key, None)
    engine.namelists.pop("ions", None)
    engine.namelists.pop("cell", None)
    engine.structure = images[0].copy()
    path = settings.namelist()
    path["num_of_images"] = max(path["num_of_images"], len(images))
    return NebInput(path=path, engine=engine, images=[s.copy() for s in images])
