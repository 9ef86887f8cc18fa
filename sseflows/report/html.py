"""The campaign report: one self-contained HTML page (``sseflows report NAME --out DIR``).

Every figure is an SVG drawn by matplotlib and embedded as a ``data:`` URI in an ``<img>``
(no external file, script or style sheet), with a caption, and the numbers it shows are in
an HTML table beside it: each cell carries the exact stored value in ``data-value`` (a
Python ``repr``; empty when missing) and its column in ``data-key``, each table its figure
in ``data-table``. A figure without data is a one-line note (``class="no-data"``).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

BOLTZMANN_EV_PER_K = 8.617333262e-5
MAX_RANKED_ROWS = 200
"""Rows of the ranked table shown (the best; the page says how many more there are)."""


class ReportData(Protocol):
    """What the page shows (:class:`sseflows.campaign.report_data.CampaignReportData`)."""

    name: str
    store: str
    generated_at: str
    funnel: dict[str, int]
    rounds: list[dict[str, Any]]
    round_funnels: dict[int, dict[str, int]]
    ranked: list[dict[str, Any]]
    predicted_vs_label: list[dict[str, Any]]
    bvse_vs_neb: list[dict[str, Any]]
    neb_profiles: list[dict[str, Any]]
    arrhenius: list[dict[str, Any]]
    learning_curve: list[dict[str, Any]]


Column = tuple[str, str, str]
"""(key, header, number format)."""

STYLE = """
body { font-family: sans-serif; max-width: 70rem; margin: 1rem auto; padding: 0 1rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #333; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.15rem 0.4rem; text-align: right; }
td.text { text-align: left; } .no-data { color: #a00; font-style: italic; }
details summary { cursor: pointer; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '<td data-value="">–</td>'
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f'<td class="text" data-value="{_esc(value)}">{_esc(value)}</td>'
    shown = format(value, fmt) if fmt else str(value)
    return f'<td data-value="{_esc(repr(value))}">{_esc(shown)}</td>'


def html_table(table_id: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> str:
    """A table whose cells carry the exact values (``data-key``, ``data-value``)."""
    head = "".join(f'<th data-key="{_esc(k)}">{_esc(h)}</th>' for k, h, _ in columns)
    body = []
    for row in rows:
        cells = "".join(
            _cell(row.get(k), fmt).replace("<td", f'<td data-key="{_esc(k)}"', 1)
            for k, _, fmt in columns
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table data-table="{_esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def svg_img(fig: Any, figure_id: str, alt: str) -> str:
    """``fig`` (a matplotlib Figure) as an ``<img>`` holding its SVG as a data URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img data-figure="{_esc(figure_id)}" alt="{_esc(alt)}" '
        f'src="data:image/svg+xml;base64,{data}">'
    )


def _new_figure(width: float = 6.4, height: float = 4.0) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def section(
    figure_id: str,
    title: str,
    caption: str,
    draw: Callable[[], Any] | None,
    tables: str,
    no_data: str,
) -> str:
    """A section: the figure (``draw`` returns a matplotlib Figure) with its caption and
    tables, or the one-line ``no_data`` note when ``draw`` is None."""
    if draw is None:
        body = f'<p class="no-data" data-figure="{_esc(figure_id)}">No data: {_esc(no_data)}</p>'
    else:
        body = (
            f"<figure>{svg_img(draw(), figure_id, title)}"
            f"<figcaption>{_esc(caption)}</figcaption></figure>{tables}"
        )
    return f'<section id="{_esc(figure_id)}"><h2>{_esc(title)}</h2>{body}</section>'


# -- the figures ---------------------------------------------------------------------------


def funnel_rows(data: ReportData) -> list[dict[str, Any]]:
    """(scope, stage, candidates): the campaign's last funnel, then each round's."""
    rows = [{"scope": "campaign", "stage": k, "candidates": v} for k, v in data.funnel.items()]
    for index, funnel in data.round_funnels.items():
        for stage, count in funnel.items():
            rows.append({"scope": f"round {index}", "stage": stage, "candidates": count})
    return rows


def draw_funnel(rows: list[dict[str, Any]]) -> Any:
    scopes = list(dict.fromkeys(r["scope"] for r in rows))
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    fig = _new_figure(7.5, 1.0 + 0.3 * len(stages) * max(1, min(len(scopes), 3)))
    ax = fig.add_subplot()
    height = 0.8 / len(scopes)
    for i, scope in enumerate(scopes):
        counts = {r["stage"]: r["candidates"] for r in rows if r["scope"] == scope}
        ys = [j + i * height for j, s in enumerate(stages) if s in counts]
        xs = [counts[s] for s in stages if s in counts]
        bars = ax.barh(ys, xs, height=height, label=scope)
        ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(stages))], stages, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("candidates left")
    if len(scopes) > 1:
        ax.legend(fontsize=8)
    return fig


def draw_predicted(rows: list[dict[str, Any]]) -> Any:
    fig = _new_figure(5.5, 5.0)
    ax = fig.add_subplot()
    for kind, marker in (("measured", "o"), ("computed", "s")):
        chosen = [r for r in rows if r["label_kind"] == kind]
        if not chosen:
            continue
        ys = [r["predicted_log10_sigma"] for r in chosen]
        lo = [y - (r["predicted_lo"] if r["predicted_lo"] is not None else y)
              for y, r in zip(ys, chosen, strict=True)]  # fmt: skip
        hi = [(r["predicted_hi"] if r["predicted_hi"] is not None else y) - y
              for y, r in zip(ys, chosen, strict=True)]  # fmt: skip
        ax.errorbar([r["label_log10_sigma"] for r in chosen], ys, yerr=[lo, hi], fmt=marker,
                    capsize=3, label=f"{kind} label")  # fmt: skip
    values = [r["label_log10_sigma"] for r in rows] + [r["predicted_log10_sigma"] for r in rows]
    values += [v for r in rows for v in (r["predicted_lo"], r["predicted_hi"]) if v is not None]
    low, high = min(values) - 0.5, max(values) + 0.5
    ax.plot([low, high], [low, high], color="grey", lw=0.8, ls="--")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("label log10 σ_RT (S/cm)")
    ax.set_ylabel("predicted log10 σ_RT (S/cm)")
    ax.legend(fontsize=8)
    return fig


def draw_bvse_neb(rows: list[dict[str, Any]]) -> Any:
    fig = _new_figure(5.5, 5.0)
    ax = fig.add_subplot()
    for engine in dict.fromkeys(r["engine"] for r in rows):
        chosen = [r for r in rows if r["engine"] == engine]
        ax.scatter([r["bvse_ea_ev"] for r in chosen], [r["neb_barrier_ev"] for r in chosen],
                   label=f"NEB ({engine})")  # fmt: skip
        for r in chosen:
            ax.annotate(r["candidate_id"], (r["bvse_ea_ev"], r["neb_barrier_ev"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")  # fmt: skip
    values = [r["bvse_ea_ev"] for r in rows] + [r["neb_barrier_ev"] for r in rows]
    high = max(values) * 1.15 + 0.05
    ax.plot([0, high], [0, high], color="grey", lw=0.8, ls="--")
    ax.set_xlim(0, high)
    ax.set_ylim(0, high)
    ax.set_xlabel("BVSE E_a (eV)")
    ax.set_ylabel("NEB barrier (eV)")
    ax.legend(fontsize=8)
    return fig


def neb_image_rows(profiles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per image of every band."""
    rows = []
    for p in profiles:
        coords = p["reaction_coordinate_angstrom"] or [None] * len(p["energies_ev"])
        for i, (energy, s) in enumerate(zip(p["energies_ev"], coords, strict=True)):
            rows.append({"candidate_id": p["candidate_id"], "engine": p["engine"], "image": i,
                         "reaction_coordinate_angstrom": s, "energy_ev": energy})  # fmt: skip
    return rows


def draw_neb(profiles: list[dict[str, Any]]) -> Any:
    fig = _new_figure()
    ax = fig.add_subplot()
    with_coords = all(p["reaction_coordinate_angstrom"] for p in profiles)
    for p in profiles:
        n = len(p["energies_ev"])
        xs = p["reaction_coordinate_angstrom"] if with_coords else [i / (n - 1) for i in range(n)]
        ax.plot(xs, p["energies_ev"], marker="o", label=f"{p['candidate_id']} ({p['engine']})")
    ax.set_xlabel("reaction coordinate (Å)" if with_coords else "reaction coordinate (fraction)")
    ax.set_ylabel("energy relative to the first image (eV)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)
    return fig


def arrhenius_point_rows(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per temperature of every MD document."""
    return [{"candidate_id": d["candidate_id"]} | p for d in docs for p in d["points"]]


def draw_arrhenius(docs: list[dict[str, Any]]) -> Any:
    fig = _new_figure(6.4, 4.5)
    ax = fig.add_subplot()
    for doc in docs:
        pts = doc["points"]
        xs = [1000.0 / p["temperature_k"] for p in pts]
        ys = [p["diffusivity_cm2_per_s"] for p in pts]
        errs = [p["diffusivity_err_cm2_per_s"] or 0.0 for p in pts]
        (line,) = ax.plot([], [])
        color = line.get_color()
        for x, y, e, p in zip(xs, ys, errs, pts, strict=True):
            ax.errorbar([x], [y], yerr=[[min(e, 0.99 * y)], [e]], fmt="o", color=color,
                        mfc=color if p["used_in_fit"] else "none", capsize=2)  # fmt: skip
        ea, d0, t_rt = doc["ea_ev"], doc["d0_cm2_per_s"], doc["rt_temperature_k"]
        label = doc["candidate_id"]
        if ea is not None and d0 is not None:
            grid = [min(xs) + (1000.0 / t_rt - min(xs)) * i / 50 for i in range(51)]
            fit = [d0 * math.exp(-ea * x / (1000.0 * BOLTZMANN_EV_PER_K)) for x in grid]
            ax.plot(grid, fit, color=color, ls="--", lw=1)
            label += f": E_a = {ea:.3f} eV"
        d_rt, sigma = doc["d_rt_cm2_per_s"], doc["sigma_rt_s_per_cm"]
        lo, hi = doc["sigma_rt_lo_s_per_cm"], doc["sigma_rt_hi_s_per_cm"]
        if d_rt is not None and sigma:
            yerr = None
            if lo is not None and hi is not None:
                yerr = [[d_rt - d_rt * lo / sigma], [d_rt * hi / sigma - d_rt]]
            ax.errorbar([1000.0 / t_rt], [d_rt], yerr=yerr, fmt="D", color=color, capsize=4)
            label += f", σ_RT = {sigma:.2e} S/cm"
        line.set_label(label)
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("Li tracer D (cm²/s)")
    ax.legend(fontsize=7)
    return fig


def draw_learning_curve(rows: list[dict[str, Any]]) -> Any:
    from matplotlib.ticker import MaxNLocator

    fig = _new_figure(9.0, 3.5)
    left, right = fig.subplots(1, 2, gridspec_kw={"wspace": 0.35})
    rounds = [r["round"] for r in rows]
    for key, label, style in (("picked_so_far", "picked", "o-"),
                              ("computed_so_far", "with a computed result", "s--"),
                              ("hits_so_far", "hits (σ_RT ≥ 1e-4 S/cm)", "^:")):  # fmt: skip
        left.plot(rounds, [r[key] for r in rows], style, label=label)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("round")
    left.set_ylabel("candidates so far")
    left.legend(fontsize=7)
    best = [(r["round"], r["best_log10_sigma"]) for r in rows if r["best_log10_sigma"] is not None]
    if best:
        right.plot(*zip(*best, strict=True), marker="o")
    right.set_xlabel("round")
    right.set_ylabel("best computed log10 σ_RT so far (S/cm)")
    return fig


# -- the page ------------------------------------------------------------------------------

RANKED_COLUMNS: tuple[Column, ...] = (
    ("rank", "rank", "d"), ("candidate_id", "id", ""), ("formula", "formula", ""),
    ("status", "status", ""), ("p_superionic", "P(superionic)", ".3f"),
    ("p_superionic_sd", "± sd", ".3f"), ("log10_sigma", "log10 σ (S/cm)", ".2f"),
    ("log10_sigma_lo", "90 % low", ".2f"), ("log10_sigma_hi", "90 % high", ".2f"),
    ("novelty", "novelty", ".2f"), ("near_training", "near training", ""),
    ("model_version", "model", ""), ("reason", "reason", ""),
)  # fmt: skip


def render_report(data: ReportData) -> str:
    """The whole page as a string."""
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "sseflows"  # stable ids: same data, same page
    parts = [
        f"<h1>Campaign {_esc(data.name)}</h1>",
        f"<p>Store {_esc(data.store or '-')}; generated {_esc(data.generated_at)} (UTC); "
        f"{len(data.rounds)} round(s) stored.</p>",
    ]
    funnel = funnel_rows(data)
    parts.append(section(
        "funnel", "Funnel", "Candidates left after each stage, in the order the campaign ran "
        "them (the last run), and per round when the learning loop stored rounds.",
        (lambda: draw_funnel(funnel)) if funnel else None,
        html_table("funnel", (("scope", "scope", ""), ("stage", "stage", ""),
                              ("candidates", "candidates", "d")), funnel),
        "the campaign record holds no funnel and no round is stored.",
    ))  # fmt: skip
    shown = data.ranked[:MAX_RANKED_ROWS]
    more = len(data.ranked) - len(shown)
    ranked = (html_table("ranked", RANKED_COLUMNS, shown)
              + (f"<p>{more} more candidate(s) not shown.</p>" if more > 0 else ""))  # fmt: skip
    parts.append(
        '<section id="ranked"><h2>Ranked candidates</h2>'
        + (
            f"<p>The ranking model's verdict per candidate (best first): P(superionic) with "
            f"its ensemble spread, predicted log10 σ_RT with its 90 % interval, novelty "
            f"(1 = typical distance to the training set).</p>{ranked}"
            if shown
            else '<p class="no-data" data-figure="ranked">No data: the campaign stored no '
            "ranking document.</p>"
        )
        + "</section>"
    )
    pred = data.predicted_vs_label
    parts.append(section(
        "predicted", "Predicted vs measured and computed σ_RT",
        "The ranking model's log10 σ_RT with its 90 % interval (bars) against each label of "
        "the same candidate: measured σ of the same reduced formula in the label store, or "
        "σ_RT the campaign computed by MD; the dashed line is equality.",
        (lambda: draw_predicted(pred)) if pred else None,
        html_table("predicted", (("candidate_id", "id", ""), ("formula", "formula", ""),
                                 ("predicted_log10_sigma", "predicted", ".2f"),
                                 ("predicted_lo", "90 % low", ".2f"),
                                 ("predicted_hi", "90 % high", ".2f"),
                                 ("label_log10_sigma", "label", ".2f"),
                                 ("label_kind", "kind", ""), ("label_source", "source", "")),
                   pred),
        "no ranked candidate has a measured or computed label.",
    ))  # fmt: skip
    bvse = data.bvse_vs_neb
    parts.append(section(
        "bvse_neb", "BVSE E_a vs NEB barrier",
        "The BVSE gate's barrier against the NEB barrier of the same candidate, per NEB "
        "engine; the dashed line is equality.",
        (lambda: draw_bvse_neb(bvse)) if bvse else None,
        html_table("bvse_neb", (("candidate_id", "id", ""), ("formula", "formula", ""),
                                ("engine", "NEB engine", ""), ("bvse_ea_ev", "BVSE E_a eV", ".3f"),
                                ("bvse_e1d_ev", "BVSE E_1D eV", ".3f"),
                                ("neb_barrier_ev", "NEB barrier eV", ".3f")), bvse),
        "no candidate has both a BVSE barrier and a NEB barrier.",
    ))  # fmt: skip
    profiles = data.neb_profiles
    parts.append(section(
        "neb_profiles", "NEB energy profiles",
        "Image energies along the path, relative to the first image, of every stored band "
        "(failed bands included: their documents say why they report no barrier).",
        (lambda: draw_neb(profiles)) if profiles else None,
        html_table("neb_barriers", (("candidate_id", "id", ""), ("engine", "engine", ""),
                                    ("status", "status", ""), ("barrier_ev", "barrier eV", ".3f")),
                   profiles)
        + html_table("neb_profiles", (("candidate_id", "id", ""), ("engine", "engine", ""),
                                      ("image", "image", "d"),
                                      ("reaction_coordinate_angstrom", "s Å", ".3f"),
                                      ("energy_ev", "E eV", ".4f")), neb_image_rows(profiles)),
        "the campaign stored no NEB band.",
    ))  # fmt: skip
    md = data.arrhenius
    parts.append(section(
        "arrhenius", "Arrhenius plots",
        "Li tracer diffusivity against 1000/T (filled: in the fit; open: left out), the "
        "Arrhenius fit extrapolated to room temperature (dashed) and D at room temperature "
        "with the range of σ_RT (diamond).",
        (lambda: draw_arrhenius(md)) if md else None,
        html_table("arrhenius_fits", (("candidate_id", "id", ""), ("formula", "formula", ""),
                                      ("engine", "engine", ""), ("status", "status", ""),
                                      ("ea_ev", "E_a eV", ".3f"), ("ea_err_ev", "± eV", ".3f"),
                                      ("d0_cm2_per_s", "D0 cm²/s", ".3e"),
                                      ("rt_temperature_k", "T_RT K", ".0f"),
                                      ("sigma_rt_s_per_cm", "σ_RT S/cm", ".3e"),
                                      ("sigma_rt_lo_s_per_cm", "σ_RT low", ".3e"),
                                      ("sigma_rt_hi_s_per_cm", "σ_RT high", ".3e")), md)
        + html_table("arrhenius_points", (("candidate_id", "id", ""),
                                          ("temperature_k", "T K", ".0f"),
                                          ("diffusivity_cm2_per_s", "D cm²/s", ".3e"),
                                          ("diffusivity_err_cm2_per_s", "± cm²/s", ".2e"),
                                          ("used_in_fit", "in fit", ""), ("flag", "flag", "")),
                     arrhenius_point_rows(md)),
        "the campaign stored no MD document with a diffusivity.",
    ))  # fmt: skip
    curve = data.learning_curve
    parts.append(section(
        "learning_curve", "Learning curve over rounds",
        "Per round of the learning loop: candidates picked so far, those with a computed "
        "result, hits (computed σ_RT ≥ 1e-4 S/cm) and the best computed log10 σ_RT so far.",
        (lambda: draw_learning_curve(curve)) if curve else None,
        html_table("learning_curve", (("round", "round", "d"), ("model_version", "model", ""),
                                      ("n_labels", "labels", "d"),
                                      ("picked_so_far", "picked", "d"),
                                      ("computed_so_far", "computed", "d"),
                                      ("hits_so_far", "hits", "d"),
                                      ("best_log10_sigma", "best log10 σ", ".2f"),
                                      ("lowest_barrier_ev", "lowest barrier eV", ".3f")), curve),
        "the campaign stored no rounds (a single pass has no learning curve).",
    ))  # fmt: skip
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>sseflows report: {_esc(data.name)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )


def write_html_report(data: ReportData, out: Path) -> Path:
    """Write the page to ``out/<name>.html`` (``out`` is created); its path."""
    out.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in data.name) or "campaign"
    path = out / f"{safe}.html"
    path.write_text(render_report(data), encoding="utf-8")
    return path
