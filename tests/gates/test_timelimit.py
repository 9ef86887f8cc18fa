"""The wall-time limit: results and errors come back, slow calls are killed quickly,
also from inside a ProcessPoolExecutor worker (how campaigns run candidates)."""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from sseflows.core.errors import CandidateError
from sseflows.gates.timelimit import run_with_time_limit


def _pid_and_sum(a: int, b: int = 0) -> tuple[int, int]:
    return os.getpid(), a + b


def _reject(candidate_id: str) -> None:
    raise CandidateError(candidate_id, "has no Li")


def _limited_sleep(seconds: float, limit: float) -> str:
    """Runs in a pool worker: a sleep under a shorter limit; returns the error text."""
    start = time.monotonic()
    try:
        run_with_time_limit(time.sleep, seconds, timeout_s=limit, candidate_id="slow")
    except CandidateError as exc:
        return f"{exc} after {time.monotonic() - start:.2f} s"
    return "finished"


def test_result_comes_back_from_a_child_process():
    pid, total = run_with_time_limit(_pid_and_sum, 2, b=3, timeout_s=30, candidate_id="x")
    assert total == 5
    assert pid != os.getpid()


def test_errors_are_re_raised_with_their_candidate():
    with pytest.raises(CandidateError) as info:
        run_with_time_limit(_reject, "abc", timeout_s=30, candidate_id="abc")
    assert info.value.candidate_id == "abc"
    assert str(info.value) == "Candidate 'abc': has no Li."
    with pytest.raises(ZeroDivisionError):
        run_with_time_limit(divmod, 1, 0, timeout_s=30, candidate_id="x")


def test_a_slow_call_is_killed_at_the_limit():
    start = time.monotonic()
    with pytest.raises(CandidateError, match=r"Candidate 'slow': BVSE did not finish within 0.5 s"):
        run_with_time_limit(time.sleep, 30, timeout_s=0.5, candidate_id="slow")
    assert time.monotonic() - start < 10
    assert not multiprocessing.active_children()


def test_time_limit_works_inside_a_process_pool_worker():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        message = pool.submit(_limited_sleep, 30, 0.5).result(timeout=60)
    assert "did not finish within 0.5 s" in message
    assert float(message.split(" after ")[1].split()[0]) < 10
