"""Percolation of a periodic network: the lowest barrier at which Li hops connect into a
1-, 2- or 3-periodic network (E_1D, E_2D, E_3D), and the periodic dimension both the BVSE
gate and the NEB tier use.

Definitions are those of the BVSE gate (:func:`sseflows.gates.bvse.grid.percolation_energies`):
E_nD is the lowest energy threshold at which the region below it holds an n-periodic
cluster, so that ``E_1D ≤ E_2D ≤ E_3D`` and a dimension that never percolates is None. On
the BVSE grid the region is the grid points below the threshold; here it is the Li sites
joined by the hops whose barrier is at most the threshold. A hop's barrier is its
*percolation barrier*, the larger of its forward and backward barriers (the saddle above
the lower of its two sites): the highest saddle a Li crossing that hop meets in either
direction. E_nD is therefore the barrier of one hop, the *limiting hop* of the n-periodic
network (the highest-barrier hop it needs; on a tie, the lowest hop index).

The graph comes from pymatgen-analysis-diffusion's :class:`MigrationGraph` (every Li–Li
pair up to the hop-length cut-off, periodic images included); each of its edges is
labelled with the symmetry-distinct hop (:func:`sseflows.core.hops.enumerate_li_hops`)
it belongs to. Its dimension is the rank of the lattice translations of the cycles of a
connected component (:func:`periodic_dimension`), the method of the BVSE grid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sseflows.core.documents import HopBarrierDoc
from sseflows.core.hops import HopKey, li_indices, normalise_hop
from sseflows.core.neb import NebDoc

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from sseflows.core.hops import LiHop

DIMENSIONS = (1, 2, 3)


def periodic_dimension(n_nodes: int, edges: Iterable[tuple[int, int, Sequence[int]]]) -> int:
    """Largest periodic dimension (0-3) of a connected component of a periodic graph.

    Nodes ``0 … n_nodes-1`` live in one unit cell; an edge ``(u, v, t)`` joins node ``u``
    of the cell to node ``v`` of the cell translated by the integer vector ``t``. A
    union-find tracks each node's lattice offset from its component's root; an edge that
    closes a cycle with a non-zero net offset is a lattice translation the component spans,
    and the component's dimension is the rank of those translations.
    """
    parent = np.arange(n_nodes)
    shift = np.zeros((n_nodes, 3), dtype=int)

    def find(x: int) -> tuple[int, np.ndarray]:
        total = np.zeros(3, dtype=int)
        while parent[x] != x:
            total += shift[x]
            x = int(parent[x])
        return x, total

    cycles: list[tuple[int, np.ndarray]] = []
    for u, v, t in edges:
        ru, ou = find(int(u))
        rv, ov = find(int(v))
        vec = ou + np.asarray(t, dtype=int) - ov  # position of v's root relative to u's root
        if ru != rv:
            parent[rv], shift[rv] = ru, vec
        elif vec.any():
            cycles.append((ru, vec))
    by_root: dict[int, list[np.ndarray]] = {}
    for root, vec in cycles:
        by_root.setdefault(find(root)[0], []).append(vec)
    return max(
        (int(np.linalg.matrix_rank(np.array(v, dtype=float))) for v in by_root.values()),
        default=0,
    )


@dataclass(frozen=True)
class HopEdge:
    """One Li–Li hop of the unit cell: site ``site_a`` to ``site_b`` translated by
    ``jimage``, an instance of distinct hop ``hop_index``."""

    site_a: int
    site_b: int
    jimage: tuple[int, int, int]
    hop_index: int


@dataclass(frozen=True)
class Percolation:
    """E_1D, E_2D, E_3D (eV; None where the hops do not percolate in that dimension) and
    the limiting hop of each network (the hop whose barrier is E_nD)."""

    e1d_ev: float | None
    e2d_ev: float | None
    e3d_ev: float | None
    limiting_hops: tuple[int | None, int | None, int | None]

    def barrier(self, dimension: int) -> float | None:
        """E_nD for ``dimension`` n (1, 2 or 3)."""
        return (self.e1d_ev, self.e2d_ev, self.e3d_ev)[dimension - 1]

    @property
    def dimension(self) -> int | None:
        """The lowest dimension that percolates (1 whenever any does), or None."""
        return next((d for d in DIMENSIONS if self.barrier(d) is not None), None)

    @property
    def limiting_hop(self) -> int | None:
        """The limiting hop of the lowest-dimensional percolating network, or None."""
        dim = self.dimension
        return None if dim is None else self.limiting_hops[dim - 1]


def percolation_barriers(
    edges: Sequence[HopEdge], barriers_ev: Mapping[int, float | None]
) -> Percolation:
    """E_1D, E_2D and E_3D of the hop network ``edges`` with hop barriers ``barriers_ev``.

    Args:
        edges: Every Li–Li hop of the unit cell (:func:`migration_graph_edges`).
        barriers_ev: Percolation barrier of each distinct hop index, eV; a hop with None
            (or missing) has no barrier and never joins the network.

    Returns:
        For each dimension n, the lowest hop barrier at which the hops with a barrier at
        most that high form an n-periodic network, and that network's limiting hop.
    """
    known = {i: float(b) for i, b in barriers_ev.items() if b is not None}
    nodes = sorted({e.site_a for e in edges} | {e.site_b for e in edges})
    number = {site: k for k, site in enumerate(nodes)}
    found: list[float | None] = [None, None, None]
    limiting: list[int | None] = [None, None, None]
    for threshold in sorted(set(known.values())):
        open_edges = [
            (number[e.site_a], number[e.site_b], e.jimage)
            for e in edges
            if known.get(e.hop_index, np.inf) <= threshold
        ]
        dim = periodic_dimension(len(nodes), open_edges)
        for d in DIMENSIONS:
            if dim >= d and found[d - 1] is None:
                found[d - 1] = threshold
                limiting[d - 1] = min(i for i, b in known.items() if b == threshold)
        if dim == 3:
            break
    return Percolation(found[0], found[1], found[2], (limiting[0], limiting[1], limiting[2]))


def migration_graph_edges(
    structure: Structure, hops: Sequence[LiHop], max_length: float
) -> list[HopEdge]:
    """The Li hops of ``structure`` up to ``max_length`` (Å) as edges labelled with their
    distinct hop.

    The graph is pymatgen-analysis-diffusion's ``MigrationGraph.with_distance`` (every
    Li–Li pair closer than ``max_length``, periodic images included); each edge is matched
    to the distinct hop of ``hops`` (from :func:`~sseflows.core.hops.enumerate_li_hops`
    with the same cut-off) whose symmetry orbit holds it. An edge no hop holds (a pair at
    the cut-off that the two neighbour searches round differently) is left out.
    """
    from pymatgen.analysis.diffusion.neb.full_path_mapper import MigrationGraph

    plain = structure.copy()
    plain.remove_oxidation_states()
    graph = MigrationGraph.with_distance(plain, "Li", max_length)
    li = li_indices(structure)  # MigrationGraph's nodes: the Li sites in structure order
    owner: dict[HopKey, int] = {key: i for i, hop in enumerate(hops) for key in hop.members}
    edges: list[HopEdge] = []
    for u, v, data in graph.m_graph.graph.edges(data=True):
        t = data["to_jimage"]
        key = normalise_hop((li[u], li[v], (int(t[0]), int(t[1]), int(t[2]))))
        if key in owner:
            edges.append(HopEdge(key[0], key[1], key[2], owner[key]))
    return edges


def hop_entry(index: int, hop: LiHop, doc: NebDoc) -> HopBarrierDoc:
    """Distinct hop ``index`` (``hop``) with the barrier and band of its document ``doc``;
    its percolation barrier is the larger of the two barriers, None without a barrier."""
    barriers = [b for b in (doc.barrier_ev, doc.barrier_back_ev) if b is not None]
    completed = doc.status == "completed" and bool(barriers)
    return HopBarrierDoc(
        **hop.to_doc().model_dump(),
        index=index,
        status="completed" if completed else "failed",
        reason=doc.reason,
        barrier_ev=doc.barrier_ev,
        barrier_back_ev=doc.barrier_back_ev,
        percolation_barrier_ev=max(barriers) if completed else None,
        converged=doc.converged,
        climbing_image=doc.climbing_image,
        iterations=doc.iterations,
        energies_ev=doc.energies_ev,
        reaction_coordinate_angstrom=doc.reaction_coordinate_angstrom,
        wall_s=doc.wall_s,
        images=doc.images,
    )


def _clause(reason: str, candidate_id: str) -> str:
    """A document's one-sentence reason as a clause: no candidate prefix, no full stop."""
    return reason.removeprefix(f"Candidate '{candidate_id}': ").rstrip(".")


def _ev(value: float | None) -> str:
    return "none" if value is None else f"{value:.3f}"


def network_doc(
    hops: Sequence[LiHop], docs: Sequence[NebDoc], edges: Sequence[HopEdge], max_length: float
) -> NebDoc:
    """The candidate's :class:`NebDoc` from one document per distinct hop (``docs[i]`` of
    ``hops[i]``) and the hop network ``edges``.

    Every hop is listed in ``hops`` with its barrier; ``e1d_ev``/``e2d_ev``/``e3d_ev`` are
    the percolation barriers (:func:`percolation_barriers`), ``barrier_ev`` is E_1D (the
    barrier of the lowest-dimensional percolating network) and the band fields are those
    of that network's limiting hop. A hop without a barrier does not join the network.
    When the hops with a barrier do not percolate, the document is ``failed`` with one
    sentence saying so; every hop's result is kept.
    """
    if len(hops) != len(docs) or not docs:
        raise ValueError("network_doc needs one document per distinct hop, at least one")
    entries = [hop_entry(i, hop, doc) for i, (hop, doc) in enumerate(zip(hops, docs, strict=True))]
    found = percolation_barriers(edges, {e.index: e.percolation_barrier_ev for e in entries})
    first, lim = docs[0], found.limiting_hop
    update: dict[str, Any] = {
        "hops": entries,
        "e1d_ev": found.e1d_ev,
        "e2d_ev": found.e2d_ev,
        "e3d_ev": found.e3d_ev,
        "limiting_hops": {f"{d}D": found.limiting_hops[d - 1] for d in DIMENSIONS},
        "limiting_hop_index": lim,
        "wall_s": sum(doc.wall_s or 0.0 for doc in docs),
    }
    cid = first.candidate_id
    if lim is None:
        missing = [e.index for e in entries if e.percolation_barrier_ev is None]
        if len(missing) == len(entries):
            why = _clause(entries[0].reason, cid)
            reason = (
                f"Candidate '{cid}': none of the {len(entries)} distinct Li hops up to "
                f"{max_length:g} Å has a barrier (hop 0: {why}), so no NEB barrier is reported."
            )
        else:
            without = (
                f" ({len(entries) - len(missing)} with a barrier; none for hop "
                f"{', '.join(map(str, missing))})"
                if missing
                else ""
            )
            reason = (
                f"Candidate '{cid}': the {len(entries)} distinct Li hops up to {max_length:g} Å"
                f"{without} do not connect into a percolating network, so no NEB barrier is "
                "reported."
            )
        return NebDoc(
            candidate_id=cid,
            formula=first.formula,
            engine=first.engine,
            status="failed",
            reason=reason,
            settings=first.settings,
            supercell_matrix=first.supercell_matrix,
            supercell_lengths_angstrom=first.supercell_lengths_angstrom,
        ).model_copy(update=update)
    hop = entries[lim]
    reason = (
        f"Candidate '{cid}': over {len(entries)} distinct Li hops, percolation barriers "
        f"E_1D {_ev(found.e1d_ev)}, E_2D {_ev(found.e2d_ev)}, E_3D {_ev(found.e3d_ev)} eV; "
        f"limiting hop {lim} ({hop.length_angstrom:.2f} Å)."
    )
    update |= {"status": "completed", "reason": reason, "barrier_ev": found.e1d_ev}
    return docs[lim].model_copy(update=update)
