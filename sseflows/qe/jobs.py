"""Running pw.x and neb.x unattended: custodian Jobs, a configurable launcher, skip-if-done.

A run directory holds ``qe_input.json`` (the spec the handlers edit), the input file written
from it before every attempt, the output, and custodian's ``custodian.json``. Calling
:func:`run_qe` again on a directory whose output is complete returns the parsed result
without running anything; one whose output is incomplete (killed job) is first corrected by
the handlers, so it continues from the last geometry / path file.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import TypeVar

from custodian.custodian import Custodian, CustodianError, Job

from sseflows.core.errors import ConfigurationError, SseflowsError
from sseflows.qe.handlers import (
    SPEC_FILE,
    LauncherFailureHandler,
    QeHandler,
    UnrecognisedErrorHandler,
    default_handlers,
    last_lines,
    launcher_failure_sentence,
    load_spec,
    output_text,
)
from sseflows.qe.neb_input import NebInput
from sseflows.qe.parsers import NebResult, PwResult, parse_neb_output, parse_pw_output
from sseflows.qe.sets import PwInput
from sseflows.settings import load_settings

FILES = {"pw": ("pw.in", "pw.out"), "neb": ("neb.in", "neb.out")}


class QeRunError(SseflowsError):
    """pw.x / neb.x failed and the handlers could not recover; message is one sentence."""


class QeJob(Job):
    """One pw.x or neb.x execution under custodian.

    Args:
        kind: ``pw`` or ``neb``.
        executable: Program (``pw.x`` / ``neb.x``).
        launcher: Prefix such as ``mpirun -np 4`` or ``srun`` ("" runs the program directly).
    """

    def __init__(self, kind: str, executable: str, launcher: str = "") -> None:
        self.kind = kind
        self.executable = executable
        self.launcher = launcher
        self.input_file, self.output_file = FILES[kind]

    @property
    def name(self) -> str:
        """Job name for custodian's log."""
        return f"{self.kind}:{self.executable}"

    def setup(self, directory: str = "./") -> None:
        """Write the input file from the (possibly corrected) spec."""
        write_input_from_spec(Path(directory))

    def command(self) -> list[str]:
        """The command line (launcher + program + input flag)."""
        flag = "-inp" if self.kind == "neb" else "-in"
        return [*shlex.split(self.launcher), self.executable, flag, self.input_file]

    def run(self, directory: str = "./") -> subprocess.Popen:
        """Start the program, stdout and stderr to the output file, in a session of its own
        so that a kill reaches every MPI rank (as custodian starts its programs)."""
        write_input_from_spec(Path(directory))
        with (Path(directory) / self.output_file).open("w") as out:
            return subprocess.Popen(
                self.command(),
                cwd=directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def postprocess(self, directory: str = "./") -> None:
        """Nothing to do: parsing happens in :func:`run_qe`."""


def write_input_from_spec(directory: Path) -> Path:
    """Render ``qe_input.json`` into the program's input file."""
    spec = load_spec(directory)
    kind = spec["kind"]
    obj = NebInput.from_dict(spec["input"]) if kind == "neb" else PwInput.from_dict(spec["input"])
    return obj.write(directory / FILES[kind][0])


def parse_run(directory: str | Path, kind: str) -> PwResult | NebResult:
    """Parse the output in ``directory``."""
    out = Path(directory) / FILES[kind][1]
    return parse_neb_output(out) if kind == "neb" else parse_pw_output(out)


def run_complete(directory: str | Path, kind: str) -> bool:
    """True when ``directory`` already holds a finished, converged run."""
    out = Path(directory) / FILES[kind][1]
    return out.is_file() and parse_run(directory, kind).converged


def resolve_executable(kind: str, executable: str | None = None) -> str:
    """pw.x / neb.x from the argument or settings; ConfigurationError when not found."""
    settings = load_settings()
    name = executable or (settings.neb_cmd if kind == "neb" else settings.pw_cmd)
    if shutil.which(name) is None:
        raise ConfigurationError(f"Quantum ESPRESSO executable '{name}' was not found on PATH.")
    return name


def _correct_earlier_attempt(directory: Path, handlers: list[QeHandler]) -> None:
    """Apply the first matching handler's correction to an earlier, stopped attempt (a
    launcher failure has nothing to correct: the launch is simply tried again)."""
    for handler in handlers:
        if isinstance(handler, LauncherFailureHandler) or not handler.check(directory):
            continue
        handler.correct(directory)
        handler.n_applied_corrections += 1  # the unchanged rerun of an unknown error counts
        return


def _run_error(
    directory: Path, kind: str, exe: str, launcher: str, exc: CustodianError
) -> SseflowsError:
    """The one-sentence error for a run custodian gave up on."""
    text = output_text(directory, FILES[kind][1])
    handler = getattr(exc, "handler", None)
    if isinstance(handler, LauncherFailureHandler):
        return ConfigurationError(launcher_failure_sentence(text, launcher, exe))
    result = parse_run(directory, kind) if text else None
    found = ", ".join(result.errors) if result and result.errors else "no known error"
    if result is not None and result.error_message:
        found += f": {result.error_message}"
    if isinstance(handler, UnrecognisedErrorHandler):
        return QeRunError(
            f"{exe} failed in {directory} with an error no handler recognises, again after "
            f"one unchanged rerun ({found}; last lines: {last_lines(text)})"
        )
    why = f"{type(handler).__name__} gave up" if handler else type(exc).__name__
    return QeRunError(f"{exe} failed in {directory} ({found}; {why})")


def run_qe(
    directory: str | Path,
    spec: PwInput | NebInput | None = None,
    launcher: str | None = None,
    executable: str | None = None,
    handlers: list[QeHandler] | None = None,
    max_errors: int = 5,
) -> PwResult | NebResult:
    """Run (or reuse) one pw.x / neb.x calculation in ``directory``; returns the parsed result.

    ``spec`` is written only when the directory has none yet, so a rerun continues from the
    corrected spec of an earlier attempt instead of starting over.

    Raises:
        ConfigurationError: the executable is missing, or the launcher failed before the
            program started (quoting the launcher; never retried).
        QeRunError: the program failed and no handler could fix it (one sentence; an error
            no handler recognises is rerun once unchanged and reported with the output's
            last lines).
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    spec_path = directory / SPEC_FILE
    if not spec_path.is_file():
        if spec is None:
            raise ConfigurationError(f"No input spec in {directory} and none was given.")
        kind = "neb" if isinstance(spec, NebInput) else "pw"
        spec_path.write_text(json.dumps({"kind": kind, "input": spec.as_dict()}))
    kind = load_spec(directory)["kind"]
    if run_complete(directory, kind):
        return parse_run(directory, kind)
    exe = resolve_executable(kind, executable)
    launcher = load_settings().qe_launcher if launcher is None else launcher
    handlers = handlers if handlers is not None else default_handlers(kind, FILES[kind][1])
    if (directory / FILES[kind][1]).is_file():  # an earlier attempt stopped: correct first
        _correct_earlier_attempt(directory, handlers)
    job = QeJob(kind, exe, launcher)
    try:
        Custodian(handlers, [job], max_errors=max_errors, directory=str(directory)).run()
    except CustodianError as exc:
        raise _run_error(directory, kind, exe, launcher, exc) from exc
    result = parse_run(directory, kind)
    if not result.converged:
        found = ", ".join(result.errors) or "no known error"
        raise QeRunError(f"{exe} in {directory} finished without converging ({found})")
    return result


ResultT = TypeVar("ResultT", PwResult, NebResult)


def run_qe_as(
    result_type: type[ResultT],
    directory: str | Path,
    spec: PwInput | NebInput | None = None,
    launcher: str | None = None,
) -> ResultT:
    """:func:`run_qe` for a caller that needs one kind of result (``PwResult`` or
    ``NebResult``).

    Raises:
        ConfigurationError: ``directory`` already holds the other program's calculation.
    """
    result = run_qe(directory, spec, launcher=launcher)
    if not isinstance(result, result_type):
        raise ConfigurationError(
            f"{directory} holds a {type(result).__name__} calculation where a "
            f"{result_type.__name__} was expected; use another work directory."
        )
    return result
