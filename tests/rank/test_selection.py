"""Top-k selection between tiers, on hand-built gate documents."""

from __future__ import annotations

from sseflows.rank.selection import RANKERS, LowestEHull, select_top_k


def _docs(mp_status: str, e_hull: float | None, bvse_status: str | None, ea: float | None):
    mp = {"status": mp_status, "e_hull_ev_per_atom": e_hull}
    bvse = None if bvse_status is None else {"status": bvse_status, "gate_ea_ev": ea}
    return {"mp": mp, "bvse": bvse}


GATES = {
    "a": _docs("passed", 0.0, "passed", 0.30),
    "b": _docs("passed", 0.02, "passed", 0.10),
    "c": _docs("unknown", None, "passed", 0.20),
    "d": _docs("passed", 0.0, "dropped", 0.90),
    "e": _docs("dropped", 0.5, None, None),
    "f": _docs("passed", 0.0, "passed", 0.30),
}


def test_lowest_barriers_first_with_reproducible_ties() -> None:
    assert select_top_k(GATES, 3) == ["b", "c", "a"]
    assert select_top_k(GATES, 10) == ["b", "c", "a", "f"]
    assert select_top_k(GATES, 0) == []


def test_on_the_hull_only_as_in_laskowski() -> None:
    """Laskowski 2023: the 10 with lowest BVSE E_a *and* E_hull = 0 go to CI-NEB."""
    assert select_top_k(GATES, 10, require_e_hull_zero=True) == ["a", "f"]


def test_rank_by_e_hull_without_a_bvse_gate() -> None:
    gates = {k: {"mp": v["mp"]} for k, v in GATES.items()}
    assert select_top_k(gates, 3, LowestEHull()) == ["a", "d", "f"]


def test_rankers_are_chosen_by_name() -> None:
    assert set(RANKERS) == {"lowest_bvse_barrier", "lowest_e_hull"}
    assert select_top_k(GATES, 3, RANKERS["lowest_bvse_barrier"]) == ["b", "c", "a"]
    assert select_top_k(GATES, 2, RANKERS["lowest_e_hull"]) == ["a", "d"]
