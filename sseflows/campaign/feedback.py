"""Feedback: computed barriers and conductivities become labels of the labelled set.

Every completed NEB or MD document in the results store becomes a ``computed`` label with
the method (``neb-qe``, ``neb-chgnet``, ``md-chgnet``, ``md-vasp``), provenance (the job
uuid, the result key and the candidate) and fidelity (engine, convergence), so the next
ranking can learn from it. The label id names the result key (structure and settings), not
the run, so the local runner and FireWorks give the same id and a recomputation replaces its
label. Only converged, valid numbers become labels: a NEB document must be ``completed`` and
converged with a barrier (a band that fell below its endpoints is ``failed`` and has none,
:meth:`sseflows.core.neb.NebDoc.judged`), an MD document ``completed`` with σ_RT.
"""

from __future__ import annotations

from typing import Any

from jobflow import JobStore

from sseflows.campaign.results import query_tier_docs
from sseflows.core.label import Label


def label_from_doc(doc: dict[str, Any], campaign: str = "") -> Label | None:
    """A computed label from one NEB or MD tier document; None when it is failed, invalid,
    unconverged or has no number."""
    if doc.get("status") != "completed":
        return None
    tier = doc.get("tier")
    engine = doc.get("engine") or "unknown"
    provenance = {"candidate_id": doc["candidate_id"], "job_uuid": doc.get("job_uuid"),
                  "result_key": doc.get("result_key"), "campaign": campaign}  # fmt: skip
    # the id names the computation (result key: structure and settings), not the run, so
    # the local runner and FireWorks give the same label, and a rerun replaces it
    computation = str(doc.get("result_key") or doc.get("job_uuid"))[:8]
    if tier == "neb" and doc.get("barrier_ev") is not None and doc.get("converged") is True:
        return Label(
            label_id=f"neb-{engine}:{doc['candidate_id']}:{computation}",
            formula=doc.get("formula", ""),
            ea_ev=float(doc["barrier_ev"]),
            kind="computed",
            method=f"neb-{engine}",
            source=campaign or "sseflows",
            provenance=provenance,
            fidelity={
                "engine": engine,
                "converged": True,
                "climbing_image": bool(doc.get("climbing_image")),
                "n_images": doc.get("n_images"),
            },
        )
    if tier == "md" and doc.get("sigma_rt_s_per_cm"):
        return Label(
            label_id=f"md-{engine}:{doc['candidate_id']}:{computation}",
            formula=doc.get("formula", ""),
            sigma_rt_s_per_cm=float(doc["sigma_rt_s_per_cm"]),
            ea_ev=doc.get("ea_ev"),
            temperature_k=float(doc.get("rt_temperature_k") or 300.0),
            kind="computed",
            method=f"md-{engine}",
            source=campaign or "sseflows",
            provenance=provenance | {"sigma_range_s_per_cm": doc.get("sigma_rt_range_s_per_cm")},
            fidelity={
                "engine": engine,
                "converged": True,
                "n_fitted": doc.get("n_fitted"),
                "ea_err_ev": doc.get("ea_err_ev"),
            },
        )
    return None


def computed_labels(store: JobStore, campaign: str = "") -> list[Label]:
    """Labels for every completed NEB and MD document in ``store``."""
    labels = []
    for tier in ("neb", "md"):
        for doc in query_tier_docs(store, tier=tier, status="completed"):
            label = label_from_doc(doc, campaign)
            if label is not None:
                labels.append(label)
    return labels
