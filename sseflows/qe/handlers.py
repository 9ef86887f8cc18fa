"""custodian error handlers for pw.x and neb.x, one small class per failure family.

Every handler reads the output (failure messages in :data:`sseflows.qe.parsers.PW_ERRORS`)
and returns *declarative* corrections on the run's input spec ``qe_input.json`` — custodian
``Modder`` actions with ``->`` nested keys — applied by :func:`apply_actions` after a
backup. Correction factors live in :data:`DEFAULTS`. Each correction logs one sentence.

=========================  ==========================================================
handler                    correction, in order
=========================  ==========================================================
DiagonalizationHandler     diagonalization david → paro → cg; give up after cg
ScfConvergenceHandler      mixing_beta × 0.8, restart from the charge density (and from
                           the last geometry inside a relaxation); neb.x: the engine's
                           mixing_beta × 0.8, restart from the ``.path`` file
RelaxationHandler          nstep exhausted: restart from the last geometry; BFGS failure:
                           relax → damp; vc-relax → trust_radius_min × 0.1, then damp +
                           damp-w; from the last geometry
NebStepLimitHandler        restart from the ``.path`` file with nstep_path × 2
KilledRunHandler           killed / out of wall time: pw.x relax from the last geometry
                           (``restart_mode='restart'`` after a clean wall-time stop);
                           neb.x from the ``.path`` file
UnrecognisedErrorHandler   QE stopped with an error no handler above knows: rerun once
                           unchanged, then give up (the aiida-quantumespresso rule)
LauncherFailureHandler     the launcher (mpirun, srun) failed before pw.x/neb.x wrote its
                           header: a configuration error, never retried
=========================  ==========================================================

:func:`launcher_failure_sentence` and :func:`last_lines` turn those two give-ups into the
one-sentence errors :func:`sseflows.qe.jobs.run_qe` raises.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import MappingProxyType
from typing import Any

from custodian.ansible.interpreter import Modder
from custodian.custodian import ErrorHandler
from custodian.utils import backup

from sseflows.qe.parsers import NEB_ERRORS, PW_ERRORS, classify_errors, parse_pw_output

logger = logging.getLogger(__name__)

SPEC_FILE = "qe_input.json"

DEFAULTS: MappingProxyType = MappingProxyType(
    {
        "mixing_beta_factor": 0.8,
        "mixing_beta_min": 0.05,
        "diagonalization_ladder": ("david", "paro", "cg"),
        "trust_radius_min_factor": 0.1,
        "nstep_path_factor": 2,
    }
)
"""Correction factors shared by all handlers (read-only)."""


def load_spec(directory: str | Path) -> dict[str, Any]:
    """The run's input spec ``{"kind": "pw"|"neb", "input": {...}}``."""
    return json.loads((Path(directory) / SPEC_FILE).read_text())


def apply_actions(directory: str | Path, actions: list[dict], files: list[str]) -> None:
    """Back up ``files`` then apply Modder ``actions`` to the spec file."""
    directory = Path(directory)
    backup(files, directory=str(directory))
    spec = load_spec(directory)
    modder = Modder()
    for action in actions:
        modder.modify(action["action"], spec)
    (directory / SPEC_FILE).write_text(json.dumps(spec))


def _set(**values: Any) -> dict:
    return {
        "dict": SPEC_FILE,
        "action": {"_set": {k.replace("__", "->"): v for k, v in values.items()}},
    }


class QeHandler(ErrorHandler):
    """Base: ``families`` of :data:`PW_ERRORS`/:data:`NEB_ERRORS` this handler answers.

    Args:
        output_file: pw.x / neb.x output file name in the run directory.
    """

    families: tuple[str, ...] = ()
    is_monitor = False
    max_num_corrections = 6

    def __init__(self, output_file: str = "pw.out") -> None:
        self.output_file = output_file

    def _errors(self, directory: str | Path) -> list[str]:
        path = Path(directory) / self.output_file
        if not path.is_file():
            return []
        text = path.read_text(errors="replace")
        errors = classify_errors(text, {**PW_ERRORS, **NEB_ERRORS})
        return errors if "JOB DONE." in text else [*errors, "incomplete"]

    def check(self, directory: str | Path = "./") -> bool:
        """True when the output shows one of this handler's failure families."""
        return any(e in self.families for e in self._errors(directory))

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        """(Modder actions or None to give up, one sentence saying what is done)."""
        raise NotImplementedError

    def correct(self, directory: str | Path = "./") -> dict:
        """Apply :meth:`actions` to the spec; custodian's correction record."""
        directory = Path(directory)
        errors = [e for e in self._errors(directory) if e in self.families]
        actions, sentence = self.actions(directory, load_spec(directory))
        logger.info("%s in %s: %s", type(self).__name__, directory, sentence)
        if actions:
            apply_actions(directory, actions, [self.output_file, SPEC_FILE])
        return {"errors": errors, "actions": actions}

    def _last_geometry(self, directory: Path) -> list[dict]:
        result = parse_pw_output(directory / self.output_file)
        if result.structure is None:
            return []
        return [_set(input__structure=result.structure.as_dict())]


PROGRAM_HEADERS = ("Program PWSCF", "Program NEB")
"""What pw.x / neb.x print first; an output without either never reached the program."""

LAUNCHER_HINTS: MappingProxyType = MappingProxyType(
    {
        "attempt to run as root": "set OMPI_ALLOW_RUN_AS_ROOT=1 and "
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1, or use another launcher",
        "not enough slots": "ask for fewer processes or add --oversubscribe to the launcher",
        "command not found": "check that the launcher is installed on this node",
        "No such file or directory": "check that the launcher and the program exist on this node",
    }
)
"""Launcher message fragment → what the user should do (the fallback names the setting)."""


def output_text(directory: str | Path, output_file: str) -> str:
    """The program's output (stdout and stderr) in ``directory``; "" when absent."""
    path = Path(directory) / output_file
    return path.read_text(errors="replace") if path.is_file() else ""


def reached_program(text: str) -> bool:
    """True when the output shows pw.x's or neb.x's header (the launcher started it)."""
    return any(header in text for header in PROGRAM_HEADERS)


def last_lines(text: str, n: int = 3) -> str:
    """The last ``n`` non-blank lines of an output, joined with `` | `` (for one sentence)."""
    lines = [line.strip() for line in text.splitlines() if line.strip().strip("%-")]
    return " | ".join(lines[-n:])


def launcher_failure_sentence(text: str, launcher: str, executable: str) -> str:
    """One sentence for a launcher that failed before ``executable`` wrote its header,
    quoting the launcher's own first line and saying what to do."""
    quoted = next(
        (line.strip() for line in text.splitlines() if line.strip().strip("-")), "no output"
    )
    hint = next((h for key, h in LAUNCHER_HINTS.items() if key in text), None)
    hint = hint or "check the launcher"
    return (
        f"The launcher '{launcher or '(none)'}' failed before {executable} started "
        f'("{quoted.rstrip(".")}"): {hint} (the qe_launcher setting, SSEFLOWS_QE_LAUNCHER).'
    )


def _namelist(spec: dict, name: str) -> dict:
    return spec["input"]["namelists"].get(name, {})


class DiagonalizationHandler(QeHandler):
    """Eigensolver failures (Cholesky, S matrix, unconverged eigenvectors): next solver."""

    families = ("diagonalization",)

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        ladder = DEFAULTS["diagonalization_ladder"]
        key = "engine" if spec["kind"] == "neb" else None
        names = spec["input"][key]["namelists"] if key else spec["input"]["namelists"]
        current = names.get("electrons", {}).get("diagonalization", ladder[0])
        if current not in ladder or current == ladder[-1]:
            return None, f"diagonalization '{current}' failed and no solver is left to try."
        new = ladder[ladder.index(current) + 1]
        prefix = "input__engine__namelists" if key else "input__namelists"
        return [_set(**{f"{prefix}__electrons__diagonalization": new})], (
            f"diagonalization '{current}' failed; switching to '{new}'."
        )


class ScfConvergenceHandler(QeHandler):
    """SCF not converged within electron_maxstep: lower mixing_beta, restart from density.

    In neb.x (an image's SCF failed, ``scf convergence NOT achieved on image N``, and neb.x
    stopped) the engine's mixing_beta is lowered and the band restarts from the path file
    (from scratch when neb.x wrote none)."""

    families = ("scf_not_converged",)

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        neb = spec["kind"] == "neb"
        names = spec["input"]["engine"]["namelists"] if neb else spec["input"]["namelists"]
        beta = float(names.get("electrons", {}).get("mixing_beta", 0.7))
        new = round(beta * DEFAULTS["mixing_beta_factor"], 6)
        if new < DEFAULTS["mixing_beta_min"]:
            return None, f"SCF still not converged at mixing_beta {beta}; giving up."
        if neb:
            restart = "restart" if list(directory.glob("*.path")) else "from_scratch"
            return [
                _set(input__engine__namelists__electrons__mixing_beta=new),
                _set(input__path__restart_mode=restart),
            ], (
                f"An image's SCF did not converge; mixing_beta {beta} -> {new}, neb.x "
                + ("restarting from its path file." if restart == "restart" else "rerun.")
            )
        actions = [
            _set(input__namelists__electrons__mixing_beta=new),
            _set(input__namelists__electrons__startingpot="file"),
        ]
        if _namelist(spec, "control").get("calculation", "scf") != "scf":
            actions += self._last_geometry(directory)
        return (
            actions,
            f"SCF not converged; mixing_beta {beta} -> {new}, restarting from the density.",
        )


class RelaxationHandler(QeHandler):
    """BFGS failure or nstep exhausted in relax / vc-relax: go on from the last geometry."""

    families = ("bfgs_history_failure", "max_ionic_steps")

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        geometry = self._last_geometry(directory)
        if not geometry:
            return None, "relaxation failed before any geometry was written; giving up."
        errors = self._errors(directory)
        if "bfgs_history_failure" not in errors:
            return geometry, "ionic steps exhausted; restarting from the last geometry."
        ions, cell = _namelist(spec, "ions"), _namelist(spec, "cell")
        vc = _namelist(spec, "control").get("calculation") == "vc-relax"
        if ions.get("ion_dynamics") == "damp":
            return None, "BFGS failed and damped dynamics already tried; giving up."
        if vc and "trust_radius_min" not in ions:
            new = 1e-3 * DEFAULTS["trust_radius_min_factor"]  # QE default trust_radius_min 1e-3
            return [*geometry, _set(input__namelists__ions__trust_radius_min=new)], (
                f"BFGS history failure in vc-relax; trust_radius_min -> {new}, last geometry."
            )
        actions = [*geometry, _set(input__namelists__ions__ion_dynamics="damp")]
        if vc and cell.get("cell_dynamics") != "damp-w":
            actions.append(_set(input__namelists__cell__cell_dynamics="damp-w"))
        return actions, "BFGS history failure; switching to damped dynamics from the last geometry."


class NebStepLimitHandler(QeHandler):
    """neb.x reached nstep_path unconverged: restart from the path file with more steps."""

    families = ("neb_max_steps",)

    def __init__(self, output_file: str = "neb.out") -> None:
        super().__init__(output_file)

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        steps = int(spec["input"]["path"]["nstep_path"])
        new = steps * DEFAULTS["nstep_path_factor"]
        return [
            _set(input__path__restart_mode="restart"),
            _set(input__path__nstep_path=new),
        ], f"NEB unconverged after nstep_path {steps}; restarting from the path file with {new}."


class KilledRunHandler(QeHandler):
    """Run killed or out of wall time: continue from saved state, never from scratch."""

    families = ("walltime", "incomplete")

    def check(self, directory: str | Path = "./") -> bool:
        """Wall time hit, or stopped without JOB DONE and without a more specific failure
        (an output the launcher wrote before the program started is no killed run)."""
        errors = self._errors(directory)
        if errors == ["incomplete"]:
            text = output_text(directory, self.output_file)
            return not text.strip() or reached_program(text)
        return "walltime" in errors

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        if spec["kind"] == "neb":
            if not list(directory.glob("*.path")):
                return [_set(input__path__restart_mode="from_scratch")], (
                    "neb.x stopped before writing a path file; nothing to lose, rerunning."
                )
            return [_set(input__path__restart_mode="restart")], (
                "neb.x stopped early; restarting from its path file."
            )
        calc = _namelist(spec, "control").get("calculation", "scf")
        if "walltime" in self._errors(directory):
            return [_set(input__namelists__control__restart_mode="restart")], (
                "pw.x hit max_seconds; restarting from its saved state."
            )
        if calc == "scf":
            return [_set(input__namelists__control__restart_mode="from_scratch")], (
                "pw.x scf was killed; rerunning it (an scf keeps no partial result)."
            )
        geometry = self._last_geometry(directory)
        return geometry or [_set(input__namelists__control__restart_mode="from_scratch")], (
            "pw.x was killed; restarting from the last geometry."
        )


class LauncherFailureHandler(QeHandler):
    """The launcher failed before the program wrote its header (mpirun refusing to run as
    root, too few slots, a missing executable on the node): nothing to correct, no retry.

    An empty output is not this failure (a job killed before it printed anything is left to
    :class:`KilledRunHandler`); :func:`sseflows.qe.jobs.run_qe` turns the give-up into a
    :class:`~sseflows.core.errors.ConfigurationError` quoting the launcher.
    """

    families = ("launcher",)

    def _errors(self, directory: str | Path) -> list[str]:
        text = output_text(directory, self.output_file)
        return ["launcher"] if text.strip() and not reached_program(text) else []

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        return None, "the launcher failed before the program started; not retrying."


class UnrecognisedErrorHandler(QeHandler):
    """QE stopped with an error (``Error in routine ...``) that no other handler knows:
    rerun once unchanged, then give up (custodian raises after ``max_num_corrections``)."""

    families = ("qe_error",)
    max_num_corrections = 1
    raise_on_max = True

    def check(self, directory: str | Path = "./") -> bool:
        """QE's own error and nothing a more specific handler answers."""
        return set(self._errors(directory)) == {"qe_error", "incomplete"}

    def actions(self, directory: Path, spec: dict) -> tuple[list[dict] | None, str]:
        # custodian treats an empty action list as a give-up: count the rerun in the spec
        # (outside the input, so the program sees the same input again)
        return [{"dict": SPEC_FILE, "action": {"_inc": {"unchanged_reruns": 1}}}], (
            "QE stopped with an error no handler recognises; rerunning it once unchanged."
        )


def default_handlers(kind: str, output_file: str) -> list[QeHandler]:
    """Handlers in priority order for ``kind`` = pw | neb."""
    specific: list[QeHandler] = (
        [NebStepLimitHandler(output_file), ScfConvergenceHandler(output_file)]
        if kind == "neb"
        else [ScfConvergenceHandler(output_file), RelaxationHandler(output_file)]
    )
    return [
        LauncherFailureHandler(output_file),
        DiagonalizationHandler(output_file),
        *specific,
        KilledRunHandler(output_file),
        UnrecognisedErrorHandler(output_file),
    ]
