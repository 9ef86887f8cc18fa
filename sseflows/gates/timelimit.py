"""Run a function in a child process and give up on it after a wall-time limit.

Used by the BVSE gate (a pathological cell must not hold a campaign worker for hours), and
usable by any tier. The child is forked (spawned where fork does not exist), so it works
both from the main process and from inside a ``concurrent.futures.ProcessPoolExecutor``
worker, whose processes are not daemonic. The result travels back through a pipe; on
timeout the child is killed with SIGKILL.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from typing import Any, TypeVar

from sseflows.core.errors import CandidateError

T = TypeVar("T")
logger = logging.getLogger(__name__)


def _context() -> ForkContext | SpawnContext:
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _child(conn: Connection, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    """Run ``fn`` and send ``("ok", value)`` or a picklable description of the error."""
    try:
        message: tuple = ("ok", fn(*args, **kwargs))
    except CandidateError as exc:
        message = ("candidate_error", exc.candidate_id, exc.cause)
    except BaseException as exc:  # every error must reach the parent, which re-raises it
        try:
            pickle.loads(pickle.dumps(exc))
            message = ("error", exc)
        except Exception:  # an exception that cannot be pickled travels as text
            message = ("error_text", type(exc).__name__, str(exc))
    try:
        conn.send(message)
    finally:
        conn.close()


def run_with_time_limit(
    fn: Callable[..., T],
    *args: Any,
    timeout_s: float,
    candidate_id: str,
    what: str = "BVSE",
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` run in a child process, killed after ``timeout_s`` seconds.

    Exceptions raised by ``fn`` are re-raised here (a :class:`CandidateError` keeps its
    candidate and cause). In a daemonic process, which may not have children, ``fn`` runs
    in-process without a limit and a warning is logged.

    Raises:
        CandidateError: "<what> did not finish within N s" on timeout, or when the child
            died without an answer (killed for memory, crashed).
    """
    if multiprocessing.current_process().daemon:
        logger.warning("%s for %s runs without a time limit (daemonic process)", what, candidate_id)
        return fn(*args, **kwargs)
    receiver, sender = _context().Pipe(duplex=False)
    process = _context().Process(target=_child, args=(sender, fn, args, kwargs), daemon=True)
    start = time.monotonic()
    process.start()
    sender.close()
    try:
        ready = receiver.poll(max(timeout_s, 0.0))
        if not ready:
            raise CandidateError(candidate_id, f"{what} did not finish within {timeout_s:g} s")
        try:
            message = receiver.recv()
        except EOFError:
            process.join(5)
            raise CandidateError(
                candidate_id,
                f"{what} process died without a result (exit code {process.exitcode}, "
                "possibly killed for lack of memory)",
            ) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    logger.debug("%s for %s took %.2f s", what, candidate_id, time.monotonic() - start)
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "candidate_error":
        raise CandidateError(message[1], message[2])
    if kind == "error":
        raise message[1]
    raise RuntimeError(f"{message[1]}: {message[2]}")
