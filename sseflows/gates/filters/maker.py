"""The filters gate as a jobflow Maker: no transition metals, E_hull = 0, oxidation limit.

The filters run in the screening flow after the MP gate, whose document gives E_hull. The
oxidation limit (:mod:`sseflows.gates.filters.oxidation`) needs the MP entries of the
candidate's chemical system: from the live API when a key is configured and the API
answers, else from the offline snapshot, which must hold them (``sseflows mp snapshot``
stores the entries of every chemical system it downloads). A candidate whose value cannot
be known is ``unknown`` (kept) or ``dropped``, per ``missing_policy``, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobflow import Response, job
from pymatgen.core import Composition

from sseflows.core.candidate import Candidate
from sseflows.core.maker import TierMaker
from sseflows.gates.filters.oxidation import chemsys_of, oxidation_limit
from sseflows.gates.filters.schemas import FiltersDoc
from sseflows.gates.mp.sources import MPSource, build_mp_source, entries_in_chemsys

E_HULL_ZERO_TOL_EV_PER_ATOM = 1e-6
"""|E_hull| at or below this is "on the hull" (eV/atom): MP stores exactly 0 for hull
phases; the tolerance only absorbs floating-point noise of a recomputed hull."""


def transition_metals(composition: Composition) -> list[str]:
    """The transition metals of ``composition`` (pymatgen's ``is_transition_metal``:
    groups 3–12 and La, Ac), sorted."""
    return sorted(el.symbol for el in composition.elements if el.is_transition_metal)


def filter_candidate(
    candidate: Candidate,
    e_hull_ev_per_atom: float | None,
    source: MPSource | Callable[[], MPSource] | None,
    *,
    no_transition_metals: bool = False,
    e_hull_zero: bool = False,
    e_hull_zero_tol_ev_per_atom: float = E_HULL_ZERO_TOL_EV_PER_ATOM,
    oxidation_limit_min_v: float | None = None,
    missing_policy: str = "keep",
    settings: dict[str, Any] | None = None,
) -> FiltersDoc:
    """Apply the filters in Kang's order (no TM, E_hull = 0, oxidation limit); pure but for
    the entry look-up, which happens only when the oxidation filter is on."""
    formula = candidate.formula or (
        candidate.structure.composition.reduced_formula if candidate.structure else ""
    )
    composition = (
        candidate.structure.composition if candidate.structure is not None else Composition(formula)
    )
    doc = FiltersDoc(
        candidate_id=candidate.id,
        formula=composition.reduced_formula,
        status="passed",
        settings=settings or {},
        transition_metals=transition_metals(composition),
        e_hull_ev_per_atom=e_hull_ev_per_atom,
        chemsys=chemsys_of(composition),
        no_transition_metals=no_transition_metals,
        e_hull_zero=e_hull_zero,
        e_hull_zero_tol_ev_per_atom=e_hull_zero_tol_ev_per_atom,
        oxidation_limit_min_v=oxidation_limit_min_v,
        missing_policy=missing_policy,
    )
    unknown: list[str] = []

    def verdict(status: str, why: str) -> FiltersDoc:
        doc.status = status  # type: ignore[assignment]
        doc.reason = f"Candidate '{candidate.id}' {why}."
        return doc

    if no_transition_metals and doc.transition_metals:
        metals = ", ".join(doc.transition_metals)
        return verdict("dropped", f"contains transition metals ({metals})")
    if e_hull_zero:
        if e_hull_ev_per_atom is None:
            unknown.append("its E_hull is unknown")
        elif abs(e_hull_ev_per_atom) > e_hull_zero_tol_ev_per_atom:
            return verdict(
                "dropped",
                f"is not on the convex hull (E_hull {e_hull_ev_per_atom:.3g} eV/atom > "
                f"{e_hull_zero_tol_ev_per_atom:g})",
            )
    if oxidation_limit_min_v is not None:
        resolved = source if source is None or isinstance(source, MPSource) else source()
        found = entries_in_chemsys(resolved, doc.chemsys) if resolved is not None else None
        if found is None:
            notes = list(getattr(resolved, "unavailable", []) or [])
            why = f" ({'; '.join(notes)})" if notes else ""
            unknown.append(
                f"its oxidation limit is unknown: no MP source holds the entries of the "
                f"{doc.chemsys} chemical system{why}"
            )
        else:
            entries, doc.entries_source = found
            try:
                limit = oxidation_limit(entries, composition)
            except ValueError as exc:
                unknown.append(f"its oxidation limit is unknown: {exc}")
            else:
                doc.oxidation_limit_v = limit.voltage_v
                doc.oxidation_reaction = limit.reaction
                if limit.voltage_v <= oxidation_limit_min_v:
                    return verdict(
                        "dropped",
                        f"decomposes on Li extraction at {limit.voltage_v:.2f} V vs Li/Li+ "
                        f"(oxidation limit <= {oxidation_limit_min_v:g} V; {limit.reaction})",
                    )
    if unknown:
        status = "dropped" if missing_policy == "drop" else "unknown"
        kept = "dropped by the missing-data policy" if status == "dropped" else "kept"
        return verdict(status, f"is {kept}: {'; '.join(unknown)}")
    applied = [
        name
        for name, on in (
            ("no transition metals", no_transition_metals),
            ("E_hull = 0", e_hull_zero),
            (f"oxidation limit > {oxidation_limit_min_v} V", oxidation_limit_min_v is not None),
        )
        if on
    ]
    limit_text = (
        f" (oxidation limit {doc.oxidation_limit_v:.2f} V)"
        if doc.oxidation_limit_v is not None
        else ""
    )
    return verdict("passed", f"passes the filters: {', '.join(applied) or 'none'}{limit_text}")


@dataclass
class FiltersMaker(TierMaker):
    """Filters of Kang et al.'s funnel.

    Args:
        name: Job name.
        no_transition_metals: Drop compositions with a transition metal.
        e_hull_zero: Keep only candidates on the hull (|E_hull| <= the tolerance).
        e_hull_zero_tol_ev_per_atom: Tolerance of "on the hull", eV/atom.
        oxidation_limit_min_v: Keep oxidation limits above this, V vs Li/Li⁺ (None: off;
            Kang et al.: 3.7).
        missing_policy: ``"keep"`` (status ``unknown``) or ``"drop"`` when E_hull or the
            oxidation limit cannot be known.
        snapshot: Snapshot JSON or store spec; None uses the ``mp_snapshot`` setting.
        use_live: Ask the live MP API (only with ``MP_API_KEY``).
    """

    name: str = "filters"
    no_transition_metals: bool = False
    e_hull_zero: bool = False
    e_hull_zero_tol_ev_per_atom: float = E_HULL_ZERO_TOL_EV_PER_ATOM
    oxidation_limit_min_v: float | None = None
    missing_policy: str = "keep"
    snapshot: str | None = None
    use_live: bool = True

    @job(output_schema=FiltersDoc)
    def make(
        self, candidate: Candidate, mp_doc: Any = None, upstream: Any = None, **seeds: Any
    ) -> Response:
        """Job: the candidate's :class:`FiltersDoc`; later tiers stop unless it proceeds.

        ``mp_doc`` is the MP gate's document (its E_hull); without one the candidate's own
        ``e_hull_ev_per_atom`` is judged."""
        settings = {
            "no_transition_metals": self.no_transition_metals,
            "e_hull_zero": self.e_hull_zero,
            "e_hull_zero_tol_ev_per_atom": self.e_hull_zero_tol_ev_per_atom,
            "oxidation_limit_min_v": self.oxidation_limit_min_v,
            "missing_policy": self.missing_policy,
            "snapshot": self.snapshot,
        }
        candidate = Candidate.coerce(candidate)
        e_hull = candidate.e_hull_ev_per_atom
        if mp_doc is not None:
            mp = mp_doc if isinstance(mp_doc, dict) else mp_doc.model_dump()
            e_hull = mp.get("e_hull_ev_per_atom", e_hull)
        doc = filter_candidate(
            candidate,
            e_hull,
            lambda: build_mp_source(self.snapshot, use_live=self.use_live),
            no_transition_metals=self.no_transition_metals,
            e_hull_zero=self.e_hull_zero,
            e_hull_zero_tol_ev_per_atom=self.e_hull_zero_tol_ev_per_atom,
            oxidation_limit_min_v=self.oxidation_limit_min_v,
            missing_policy=self.missing_policy,
            settings=settings,
        )
        return Response(output=doc, stop_children=not doc.proceeds)
