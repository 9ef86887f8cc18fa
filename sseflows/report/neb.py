"""What ``sseflows neb`` prints: every hop the ML engine computed (``hops="all"``), the
percolation barriers with their limiting hops, and the candidate's barrier line.

Numbers are printed with 3 decimals (eV, Å) from the :class:`~sseflows.core.neb.NebDoc`
itself, so they are those of the ``--json`` document rounded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from sseflows.core.neb import NebDoc

DIMENSIONS = ("1D", "2D", "3D")
"""The percolation dimensions, as keys of ``NebDoc.limiting_hops``."""


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def hops_table(doc: NebDoc) -> Table:
    """One row per distinct hop: index, length (Å), multiplicity, forward and backward
    barrier (eV), status (with the reason when the hop has no barrier); the limiting hop
    of the lowest-dimensional percolating network is marked ``*``."""
    caption = None if doc.limiting_hop_index is None else "* limiting hop (E_1D)"
    table = Table(title=f"{len(doc.hops)} distinct Li hops ({doc.engine} NEB)", caption=caption)
    for name in ("hop", "length Å", "multiplicity", "barrier eV", "back eV"):
        table.add_column(name, justify="right")
    table.add_column("status", overflow="fold")
    for hop in doc.hops:
        status = hop.status if hop.status == "completed" else f"{hop.status}: {hop.reason}"
        mark = "*" if hop.index == doc.limiting_hop_index else ""
        table.add_row(
            f"{hop.index}{mark}",
            _num(hop.length_angstrom),
            str(hop.multiplicity),
            _num(hop.barrier_ev),
            _num(hop.barrier_back_ev),
            status,
        )
    return table


def percolation_table(doc: NebDoc) -> Table:
    """E_1D/E_2D/E_3D (eV; ``does not percolate`` when None) and the limiting hop of each
    network (the hop whose barrier opens it)."""
    table = Table(title="Percolation barriers")
    table.add_column("network")
    table.add_column("barrier eV", justify="right")
    table.add_column("limiting hop", justify="right")
    for dim, value in zip(DIMENSIONS, (doc.e1d_ev, doc.e2d_ev, doc.e3d_ev), strict=True):
        hop = doc.limiting_hops.get(dim)
        table.add_row(
            f"E_{dim}",
            "does not percolate" if value is None else _num(value),
            "-" if hop is None else str(hop),
        )
    return table


def _band(doc: NebDoc) -> str:
    """Convergence and iterations of the reported band."""
    climb = f", {doc.climb_iterations} climbing image" if doc.climbing_image else ""
    state = "converged" if doc.converged else "NOT converged"
    return f"{state}, {doc.iterations} iterations ({doc.plain_iterations} plain{climb})"


def barrier_line(formula: str, doc: NebDoc, hop_index: int | None) -> str:
    """The candidate's barrier in one line. With every hop computed: the percolating
    barrier E_1D (eV) and its limiting hop (index, length Å, forward and backward barrier
    eV); with one hop: that hop's forward and backward barrier (eV)."""
    if doc.hops:
        lim = doc.limiting_hop_index
        hop = next((h for h in doc.hops if h.index == lim), None)
        if hop is None:
            return f"{formula}: no percolating network, no barrier"
        return (
            f"{formula}: barrier {_num(doc.barrier_ev)} eV (E_1D, limiting hop {lim}, "
            f"{hop.length_angstrom:.3f} Å: forward {_num(hop.barrier_ev)} eV, back "
            f"{_num(hop.barrier_back_ev)} eV), {_band(doc)}"
        )
    length = f"{doc.hop.length_angstrom:.3f} Å" if doc.hop is not None else "length unknown"
    which = "?" if hop_index is None else str(hop_index)
    return (
        f"{formula} hop {which} ({length}): barrier {_num(doc.barrier_ev)} eV "
        f"(back {_num(doc.barrier_back_ev)} eV), {_band(doc)}"
    )


def hop_origin(doc: NebDoc) -> str | None:
    """How a QE band's hop was chosen, one sentence: the ML engine's limiting hop, or why
    ``hop_index`` was computed instead (``NebDoc.hop_fallback``); None for a hop given."""
    if doc.hop_fallback:
        return doc.hop_fallback
    if doc.engine == "qe" and doc.limiting_hop_index is not None:
        return (
            f"Hop {doc.limiting_hop_index} is the limiting hop of the ML NEB over every hop "
            "(stored beside this document)."
        )
    return None
