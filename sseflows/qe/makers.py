"""jobflow Makers for single QE steps: :class:`QeRelaxMaker` and :class:`QeNebMaker`.

Each Maker has a plain ``run_*`` method doing the work (used by the protocol flow in
:mod:`sseflows.qe.flows`) and a ``make`` that wraps it in a jobflow job. Run directories
are ``<work_dir>/<candidate_id>/<step>``; a finished step found there is reused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Maker, job
from pymatgen.core import Structure

from sseflows.core.documents import HopDoc, Status
from sseflows.core.neb import NebDoc, neb_job
from sseflows.qe.handlers import SPEC_FILE
from sseflows.qe.jobs import run_qe_as
from sseflows.qe.neb_input import NebPathSettings, make_neb_input
from sseflows.qe.parsers import NebResult, PwResult
from sseflows.qe.sets import PwInputGenerator

NEB_PREFIX = "hop"
"""neb.x prefix (files ``hop.path``/``hop.dat``; ``neb`` would clash with neb.x's own neb.dat)."""


def follow_displacement(reference: Structure, moved: Structure) -> Structure:
    """``moved`` with every atom placed at the periodic image nearest to ``reference``'s
    (pw.x may wrap atoms; NEB endpoints must keep the moving Li unwrapped)."""
    delta = moved.frac_coords - reference.frac_coords
    delta -= np.rint(delta)
    return Structure(
        moved.lattice,
        [s.species for s in reference],
        reference.frac_coords + delta,
        site_properties=reference.site_properties or None,
    )


@dataclass
class QeRelaxMaker(Maker):
    """pw.x relax (fixed cell) or vc-relax.

    Attributes:
        name: Job name.
        generator: Input generator; ``calculation`` and the force threshold live there
            (default 3e-4 eV/Å → 1.167e-5 Ry/Bohr).
        step: Run-directory name under the candidate's folder.
        work_dir: Root of run directories.
        launcher: Launcher prefix; None → the ``qe_launcher`` setting.
    """

    name: str = "qe relax"
    generator: PwInputGenerator = field(
        default_factory=lambda: PwInputGenerator(calculation="relax")
    )
    step: str = "relax"
    work_dir: str = "qe_runs"
    launcher: str | None = None

    def run_relax(
        self,
        structure: Structure,
        candidate_id: str = "structure",
        tot_charge: float = 0.0,
        step: str | None = None,
        ecutwfc: float | None = None,
        kspacing: float | None = None,
    ) -> PwResult:
        """Relax now; ``ecutwfc`` (Ry) / ``kspacing`` (Å⁻¹) override the generator's."""
        gen = replace(self.generator)
        if ecutwfc is not None:
            gen.ecutwfc = ecutwfc
        if kspacing is not None:
            gen.kspacing = kspacing
        directory = Path(self.work_dir).resolve() / candidate_id / (step or self.step)
        spec = gen.get_input(structure, tot_charge=tot_charge)
        return run_qe_as(PwResult, directory, spec, launcher=self.launcher)

    @job
    def make(
        self, structure: Structure, candidate_id: str = "structure", tot_charge: float = 0.0
    ) -> dict[str, Any]:
        """Job: relaxed structure (``structure``), ``energy_ev``, ``converged``, ``wall_s``."""
        result = self.run_relax(structure, candidate_id, tot_charge)
        return {
            "structure": result.structure,
            "energy_ev": result.energy_ev,
            "converged": result.converged,
            "wall_s": result.wall_s,
        }


@dataclass
class NebStages:
    """The neb.x runs of one band: the plain stage and, when it ran, the climbing restart.

    neb.x numbers the iterations of a restart on from those in its ``.path`` file, so the
    climbing stage's own iterations are its last number minus the plain stage's.
    """

    plain: NebResult
    climb: NebResult | None = None

    @property
    def final(self) -> NebResult:
        """The stage whose band is the result (the climbing one when it ran)."""
        return self.climb if self.climb is not None else self.plain

    @property
    def climb_iterations(self) -> int:
        """Iterations of the climbing-image stage (0 when it did not run)."""
        if self.climb is None:
            return 0
        return max(self.climb.iterations - self.plain.iterations, 0)

    @property
    def wall_s(self) -> float:
        """Wall time of both stages, s."""
        return sum(stage.wall_s or 0.0 for stage in (self.plain, self.climb) if stage)


@dataclass
class QeNebMaker(Maker):
    """neb.x on given images: plain NEB to ``path.path_thr``, then a climbing-image restart
    from the plain run's own ``.path`` file (CI_scheme = 'auto').

    Attributes:
        name: Job name.
        generator: scf engine settings (cutoffs, k-spacing, pseudos).
        path: &PATH settings of the plain stage (images, springs k_min/k_max, opt_scheme,
            nstep_path, path_thr 0.05 eV/Å).
        climbing_image: Run the CI restart.
        ci_nstep_path: Extra NEB iterations allowed in the CI stage.
        step: Run-directory name under the candidate's folder.
        work_dir: Root of run directories.
        launcher: Launcher prefix; None → the ``qe_launcher`` setting.
    """

    name: str = "qe neb"
    generator: PwInputGenerator = field(default_factory=PwInputGenerator)
    path: NebPathSettings = field(default_factory=NebPathSettings)
    climbing_image: bool = True
    ci_nstep_path: int = 100
    step: str = "neb"
    work_dir: str = "qe_runs"
    launcher: str | None = None

    def run_neb(
        self,
        images: Sequence[Structure],
        candidate_id: str = "structure",
        tot_charge: float = -1.0,
        step: str | None = None,
    ) -> NebStages:
        """Both stages now (the climbing-image restart only after the plain stage converged:
        :func:`run_qe` raises when it did not)."""
        root = Path(self.work_dir).resolve() / candidate_id / (step or self.step)
        engine = self.generator.get_input(images[0], tot_charge=tot_charge)
        settings = replace(self.path, n_images=len(images) - 2)
        neb = make_neb_input(list(images), engine, settings, prefix=NEB_PREFIX)
        plain = run_qe_as(NebResult, root / "plain", neb, launcher=self.launcher)
        if not self.climbing_image:
            return NebStages(plain=plain)
        ci_dir = root / "climbing"
        ci_dir.mkdir(parents=True, exist_ok=True)
        if not (ci_dir / SPEC_FILE).is_file():
            shutil.copy(root / "plain" / f"{NEB_PREFIX}.path", ci_dir / f"{NEB_PREFIX}.path")
            neb.path.update(
                restart_mode="restart",
                CI_scheme="auto",
                nstep_path=plain.iterations + self.ci_nstep_path,
            )
            (ci_dir / SPEC_FILE).write_text(json.dumps({"kind": "neb", "input": neb.as_dict()}))
        ci = run_qe_as(NebResult, ci_dir, launcher=self.launcher)
        return NebStages(plain=plain, climb=ci)

    @neb_job
    def make(
        self,
        images: Sequence[Structure],
        candidate_id: str = "structure",
        tot_charge: float = -1.0,
        hop: HopDoc | None = None,
    ) -> NebDoc:
        """Job: the :class:`NebDoc` (engine ``qe``) of a NEB on ``images``."""
        stages = self.run_neb(images, candidate_id, tot_charge)
        return neb_doc(candidate_id, images, stages, hop=hop, settings=self.settings())

    def settings(self) -> dict[str, Any]:
        """Settings recorded in the document."""
        return {
            "path": self.path.namelist(),
            "climbing_image": self.climbing_image,
            "ecutwfc": self.generator.ecutwfc,
            "kspacing": self.generator.kspacing,
            "pseudo_family": self.generator.pseudo_family,
        }


def band_structures(images: Sequence[Structure], result: NebResult) -> list[Structure]:
    """The images at the positions of neb.x's final ``.path`` file (copies of ``images``
    when the file holds no matching band)."""
    if len(result.positions_angstrom) != len(images):
        return [s.copy() for s in images]
    return [
        Structure(s.lattice, s.species, pos, coords_are_cartesian=True)
        for s, pos in zip(images, result.positions_angstrom, strict=True)
    ]


def neb_doc(
    candidate_id: str,
    images: Sequence[Structure],
    stages: NebStages | NebResult,
    hop: HopDoc | None = None,
    settings: dict[str, Any] | None = None,
    supercell_matrix: Any = None,
) -> NebDoc:
    """A completed :class:`NebDoc` from the parsed neb.x stages (a single result is a plain
    stage alone); image positions from the final ``.path`` file when present."""
    if isinstance(stages, NebResult):
        stages = NebStages(plain=stages)
    result = stages.final
    final_images = band_structures(images, result)
    status: Status = "completed"
    matrix = None if supercell_matrix is None else np.asarray(supercell_matrix).tolist()
    return NebDoc(
        candidate_id=candidate_id,
        formula=images[0].composition.reduced_formula,
        status=status,
        reason=(
            f"CI-NEB barrier {result.barrier_ev:.3f} eV"
            + ("" if result.converged else " (NEB not converged)")
        ),
        settings=settings or {},
        engine="qe",
        hop=hop,
        supercell_matrix=matrix,
        supercell_lengths_angstrom=[float(x) for x in images[0].lattice.abc],
        n_images=len(images) - 2,
        energies_ev=result.energies_ev,
        reaction_coordinate_angstrom=result.reaction_coordinate_angstrom,
        barrier_ev=result.barrier_ev,
        barrier_back_ev=result.barrier_back_ev,
        converged=result.converged,
        climbing_image=stages.climb is not None and result.climbing_image,
        plain_converged=stages.plain.converged,
        plain_iterations=stages.plain.iterations,
        climb_iterations=stages.climb_iterations,
        iterations=stages.plain.iterations + stages.climb_iterations,
        wall_s=stages.wall_s,
        images=[s.as_dict() for s in final_images],
    )
