"""Cross-candidate selection between tiers (pure functions, no jobflow)."""

from __future__ import annotations

from typing import Any

from sseflows.core.documents import PROCEEDS


def select_top_k(
    gate_docs: dict[str, dict[str, dict[str, Any] | None]],
    k: int,
    require_e_hull_zero: bool = False,
    e_hull_zero_tol_ev_per_atom: float = 1e-3,
    rank_by: str = "bvse",
) -> list[str]:
    """Ids of the ``k`` survivors with the lowest BVSE gate barrier (or E_hull).

    Args:
        gate_docs: ``{candidate_id: {"mp": MPGateDoc dict or None, "bvse": BVSEDoc dict or
            None}}``; None means the tier did not run (an earlier gate stopped it).
        k: How many to keep (Laskowski 2023: 10).
        require_e_hull_zero: Keep only candidates on the convex hull (E_hull within
            ``e_hull_zero_tol_ev_per_atom`` of 0), as in Laskowski 2023.
        e_hull_zero_tol_ev_per_atom: Tolerance for "on the hull", eV/atom.
        rank_by: ``bvse`` (lowest gate barrier; candidates without a passed BVSE document
            are out) or ``e_hull`` (lowest E_hull, for campaigns without a BVSE gate).

    Ties are broken by candidate id so the selection is reproducible.
    """
    ranked: list[tuple[float, str]] = []
    for cid, docs in gate_docs.items():
        bvse = docs.get("bvse")
        mp = docs.get("mp")
        if mp is not None and mp.get("status") not in PROCEEDS:
            continue
        e_hull = (mp or {}).get("e_hull_ev_per_atom")
        if require_e_hull_zero and (e_hull is None or abs(e_hull) > e_hull_zero_tol_ev_per_atom):
            continue
        if rank_by == "e_hull":
            if mp is None or "input" in docs:
                continue
            ranked.append((float("inf") if e_hull is None else float(e_hull), cid))
            continue
        if not bvse or bvse.get("status") not in PROCEEDS or bvse.get("gate_ea_ev") is None:
            continue
        ranked.append((float(bvse["gate_ea_ev"]), cid))
    return [cid for _, cid in sorted(ranked)[: max(k, 0)]]
