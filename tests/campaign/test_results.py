"""Per-candidate summaries: the worst tier decides, survivors ranked by BVSE barrier."""

from __future__ import annotations

from sseflows.campaign.results import (
    SCREEN_RECORD_KEYS,
    latest_by_candidate,
    rank_records,
    summarize_candidate,
)


def _doc(cid: str, tier: str, status: str, reason: str = "", **fields) -> dict:
    return {
        "candidate_id": cid,
        "tier": tier,
        "status": status,
        "reason": reason,
        "formula": "LiX",
    } | fields


def test_worst_status_and_its_reason_win() -> None:
    tiers = {
        "mp": _doc("a", "mp", "unknown", "no MP entry", e_hull_ev_per_atom=None),
        "bvse": _doc("a", "bvse", "dropped", "E_a 0.9 eV above 0.6 eV", gate_ea_ev=0.9),
    }
    rec = summarize_candidate("a", tiers)
    assert tuple(rec) == SCREEN_RECORD_KEYS
    assert rec["status"] == "dropped"
    assert rec["reason"] == "E_a 0.9 eV above 0.6 eV"
    assert rec["bvse_ea_ev"] == 0.9


def test_unknown_mp_with_passed_bvse_stays_flagged() -> None:
    tiers = {
        "mp": _doc("a", "mp", "unknown", "no MP entry"),
        "bvse": _doc("a", "bvse", "passed", gate_ea_ev=0.3, e1d_ev=0.3),
    }
    assert summarize_candidate("a", tiers)["status"] == "unknown"


def test_ranking_puts_low_barrier_survivors_first() -> None:
    recs = [
        {"id": "f", "status": "failed", "bvse_ea_ev": None},
        {"id": "d", "status": "dropped", "bvse_ea_ev": 0.1},
        {"id": "p2", "status": "passed", "bvse_ea_ev": 0.5},
        {"id": "p1", "status": "unknown", "bvse_ea_ev": 0.2},
    ]
    assert [r["id"] for r in rank_records(recs)] == ["p1", "p2", "d", "f"]


def test_latest_doc_per_tier_is_kept() -> None:
    newest_first = [
        _doc("a", "mp", "passed"),
        _doc("a", "mp", "failed"),
        _doc("b", "mp", "dropped"),
    ]
    table = latest_by_candidate(newest_first)
    assert table["a"]["mp"]["status"] == "passed"
    assert set(table) == {"a", "b"}
