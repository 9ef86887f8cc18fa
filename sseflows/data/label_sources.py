"""Importers for the published conductivity label sets in ``../shared/data``.

* **OBELiX** (Therrien et al., 2025, CC-BY 4.0): ``train.csv`` with the measured
  room-temperature ionic conductivity of each entry and, for most, ``cifs/<ID>.cif``.
* **Laskowski et al.** (Energy Environ. Sci. 2023, doi:10.1039/D2EE03499A):
  ``digitized_data_for_SSEs.csv`` — composition, σ(RT), E_a, space group, ICSD id.

Conductivities written as ``<1E-10`` are upper bounds: the label gets
``sigma_rt_s_per_cm=None``, ``sigma_upper_bound=True`` and ``log10_sigma_rt`` set to the
log10 of the bound (so a ranker can use it as a censored value); the bound itself is in
``provenance["sigma_bound_s_per_cm"]``. Rows that cannot become a label (no value, a
formula that is ambiguous or unparsable, a value outside 1e-30–100 S/cm) are skipped with
a reason, never guessed.
"""

from __future__ import annotations

import csv
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pymatgen.core import Composition, Structure
from pymatgen.io.cif import CifParser

from sseflows.core.label import Label

OBELIX_SOURCE = "obelix"
LASKOWSKI_SOURCE = "laskowski2023"
LASKOWSKI_FILE = "digitized_data_for_SSEs.csv"
LASKOWSKI_REFERENCE = "doi:10.1039/D2EE03499A"
LASKOWSKI_CLUSTERING_SOURCE = "laskowski2023-clustering"
LASKOWSKI_CLUSTERING_FILE = "semi_supervised_labels.csv"
SIGMA_RANGE_S_PER_CM = (1e-30, 1e2)
"""Plausible ionic conductivities, S/cm; values outside are typos (``<1E10``)."""

_AMBIGUOUS_AMOUNT = re.compile(r"[A-Z][a-z]?0\d")  # "P05": 0.5 or 5?
_POLYMORPH_PREFIX = re.compile(r"^(?:[α-ω]|[a-z]{1,2})-(?=[A-Z])")
"""A polymorph label before a formula (``α-Li8GeP4``, ``r-LiAlO2``); the label is dropped."""
_COEFFICIENT = re.compile(r"^(\d+(?:\.\d+)?)\s*")
_MIXTURE_SEPARATORS = "-–*·"


@dataclass
class LabelImport:
    """Labels read from one source and the rows skipped, each with a reason."""

    labels: list[Label] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def parse_sigma(text: str) -> tuple[float, bool]:
    """``(value_S_per_cm, is_upper_bound)`` from ``"1.58e-06"`` or ``"<1E-10"``.

    Raises:
        ValueError: empty, not a number, or outside :data:`SIGMA_RANGE_S_PER_CM`.
    """
    text = text.strip().replace("\u2212", "-")  # typographic minus sign
    bound = text.startswith("<")
    number = text.lstrip("<").strip()
    if not number:
        raise ValueError("no conductivity is given")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"conductivity '{text}' is not a number") from None
    low, high = SIGMA_RANGE_S_PER_CM
    if not low <= value <= high:
        raise ValueError(f"conductivity '{text}' S/cm is outside {low:g}–{high:g} S/cm")
    return value, bound


def _split_top_level(text: str) -> list[str]:
    """Split a mixture at separators (``-``, ``–``, ``*``, ``·``, or a space before a
    coefficient) that are outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        before, after = text[i - 1 : i], text[i + 1 : i + 2]
        separator = char in _MIXTURE_SEPARATORS or (
            char == " " and after.isdigit() and before not in _MIXTURE_SEPARATORS
        )
        if depth == 0 and separator:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _wrapped(text: str) -> bool:
    """True when one pair of parentheses encloses all of ``text``: ``(Li2S)``, not ``(PO4)3``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for char in text[:-1]:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return False
    return True


def mixture_composition(text: str) -> Composition:
    """Overall composition of ``"0.7Li2S-0.3P2S5"``-style mixtures (molar coefficients,
    nested parentheses allowed: ``"0.9(0.6Li2S-0.4SiS2)-0.1Li4SiO4"``), or of a plain formula.

    Raises:
        ValueError: a part is neither ``[coefficient]formula`` nor ``[coefficient](mixture)``.
    """
    parts = _split_top_level(text.strip())
    if len(parts) == 1:
        match = _COEFFICIENT.match(parts[0])
        coefficient = float(match.group(1)) if match else 1.0
        body = parts[0][match.end() :] if match else parts[0]
        if _wrapped(body):
            return mixture_composition(body[1:-1]) * coefficient
        return Composition(body) * coefficient
    total = Composition()
    for part in parts:
        total += mixture_composition(part)
    return total


def reduced_formula(text: str) -> tuple[str, bool]:
    """``(reduced formula, is_mixture)`` of a composition string.

    Plain formulas go to pymatgen; pseudo-binary mixtures such as ``0.7Li2S-0.3P2S5``
    (glasses, composites) are summed with their molar coefficients and flagged. A polymorph
    label (``β-Li3PS4``) is dropped: the composition is the same. Amounts
    with a leading zero (``P05``: 0.5 or 5?) are rejected rather than guessed.

    Raises:
        ValueError: unparsable or ambiguous formula.
    """
    text = _POLYMORPH_PREFIX.sub("", text.strip().replace("\u2212", "-"))
    match = _AMBIGUOUS_AMOUNT.search(text)
    if match:
        raise ValueError(f"formula '{text}' has an ambiguous amount '{match.group()}'")
    try:
        return Composition(text).reduced_formula, False
    except (ValueError, KeyError):
        pass
    try:
        composition = mixture_composition(text)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"formula '{text}' cannot be parsed") from exc
    if composition.num_atoms <= 0:
        raise ValueError(f"formula '{text}' cannot be parsed")
    return _integer_formula(composition), True


def _integer_formula(composition: Composition) -> str:
    """Smallest whole-number formula when one reproduces the amounts exactly
    (Li1.4P0.6S2.2 -> Li7P3S11), else pymatgen's reduced formula."""
    formula, factor = composition.get_integer_formula_and_factor(max_denominator=20)
    if Composition(formula) * factor == composition:  # Composition compares within 1e-8
        return Composition(formula).reduced_formula
    return composition.reduced_formula


def _sigma_fields(text: str) -> dict:
    value, bound = parse_sigma(text)
    if bound:
        return {
            "sigma_rt_s_per_cm": None,
            "sigma_upper_bound": True,
            "log10_sigma_rt": math.log10(value),
        }
    return {"sigma_rt_s_per_cm": value}


def _float_or_none(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _int_id(text: str) -> int | None:
    value = _float_or_none(text.strip()) if text.strip() else None
    return int(value) if value is not None else None


def read_cif_structure(path: Path) -> Structure:
    """First structure of a CIF (conventional cell, partial occupancies kept).

    Raises:
        ValueError: the file cannot be parsed (the message says why).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return CifParser(path).parse_structures(primitive=False, on_error="raise")[0]
        except Exception as exc:  # pymatgen raises many types for bad CIFs
            raise ValueError(f"{path.name} cannot be parsed ({exc})") from exc


def import_obelix(folder: Path) -> LabelImport:
    """Labels from OBELiX ``train.csv``, with ``cifs/<ID>.cif`` attached when it exists.

    A CIF that does not parse leaves the label without structure and its reason in
    ``provenance["cif_error"]``.
    """
    folder = Path(folder).resolve()
    table = folder / "train.csv"
    result = LabelImport()
    with table.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    for line, row in enumerate(rows, start=2):
        entry = row.get("ID", "").strip()
        where = f"OBELiX {entry or '?'} (train.csv line {line})"
        try:
            formula, mixture = reduced_formula(
                row.get("Reduced Composition") or row["True Composition"]
            )
            sigma = _sigma_fields(row.get("Ionic conductivity (S cm-1)", ""))
        except ValueError as exc:
            result.skipped.append(f"{where}: {exc}.")
            continue
        provenance = {
            "file": str(table),
            "line": line,
            "obelix_id": entry,
            "true_composition": row.get("True Composition", ""),
            "family": row.get("Family", ""),
            "space_group_number": _int_id(row.get("Space group #", "")),
            "icsd_id": _int_id(row.get("ICSD ID", "")),
        }
        if sigma.get("sigma_upper_bound"):
            provenance["sigma_bound_s_per_cm"] = 10 ** sigma["log10_sigma_rt"]
        if mixture:
            provenance["mixture"] = True
        structure = None
        cif = folder / "cifs" / f"{entry}.cif"
        if cif.is_file():
            provenance["cif"] = str(cif)
            try:
                structure = read_cif_structure(cif)
            except ValueError as exc:
                provenance["cif_error"] = str(exc)
        result.labels.append(
            Label(
                label_id=f"{OBELIX_SOURCE}:{entry}",
                formula=formula,
                structure=structure,
                kind="experimental",
                reference=f"doi:{row['DOI'].strip()}" if row.get("DOI", "").strip() else None,
                source=OBELIX_SOURCE,
                provenance=provenance,
                **sigma,
            )
        )
    return result


def import_laskowski(csv_path: Path) -> LabelImport:
    """Labels from Laskowski et al.'s ``digitized_data_for_SSEs.csv`` (UTF-8 with BOM).

    ``csv_path`` may also be the folder holding that file. Label ids are
    ``laskowski2023:<line>``; the ICSD id and space group go to the provenance. The
    reference is the compilation (their paper), not the original measurement, so it is
    marked ``reference_is_compilation`` and never groups rows as "same paper".
    """
    csv_path = Path(csv_path).resolve()
    if csv_path.is_dir():
        csv_path = csv_path / LASKOWSKI_FILE
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        rows = list(reader)
    columns = {name: i for i, name in enumerate(header)}
    sigma_col = next(i for name, i in columns.items() if name.startswith("σ"))
    order = (
        columns.get("Structure"),
        sigma_col,
        columns.get("Ea (eV)"),
        columns.get("space group"),
        columns.get("ICSD Entry"),
    )
    return _laskowski_rows(rows, order, csv_path, LASKOWSKI_SOURCE, first_line=2)


def import_laskowski_clustering(csv_path: Path) -> LabelImport:
    """The 344-row label set of Laskowski's semi-supervised clustering [000 L151, L316].

    ``semi_supervised_labels.csv`` (or its folder) has no header; its columns are formula,
    σ_RT (S/cm), space group number and ICSD id. Label ids are
    ``laskowski2023-clustering:<line>``; rows carry no structure (the ICSD id is in the
    provenance), so only composition representations featurise them.
    """
    csv_path = Path(csv_path).resolve()
    if csv_path.is_dir():
        csv_path = csv_path / LASKOWSKI_CLUSTERING_FILE
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    order = (0, 1, None, 2, 3)
    return _laskowski_rows(rows, order, csv_path, LASKOWSKI_CLUSTERING_SOURCE, first_line=1)


def _laskowski_rows(
    rows: list[list[str]],
    order: tuple[int | None, int | None, int | None, int | None, int | None],
    csv_path: Path,
    source: str,
    first_line: int,
) -> LabelImport:
    """Labels of Laskowski-style rows; ``order`` gives the column of formula, σ, E_a, space
    group and ICSD id (None: absent)."""
    formula_col, sigma_col, ea_col, group_col, icsd_col = order
    result = LabelImport()

    def cell(row: list[str], index: int | None) -> str:
        return row[index].strip() if index is not None and index < len(row) else ""

    for line, row in enumerate(rows, start=first_line):
        formula_text = cell(row, formula_col)
        where = f"Laskowski line {line} ({formula_text or 'no formula'})"
        try:
            formula, mixture = reduced_formula(formula_text)
            sigma = _sigma_fields(cell(row, sigma_col))
        except ValueError as exc:
            result.skipped.append(f"{where}: {exc}.")
            continue
        provenance = {
            "file": str(csv_path),
            "line": line,
            "composition": formula_text,
            "space_group_number": _int_id(cell(row, group_col)),
            "icsd_id": _int_id(cell(row, icsd_col)),
            "reference_is_compilation": True,
        }
        if sigma.get("sigma_upper_bound"):
            provenance["sigma_bound_s_per_cm"] = 10 ** sigma["log10_sigma_rt"]
        if mixture:
            provenance["mixture"] = True
        result.labels.append(
            Label(
                label_id=f"{source}:{line}",
                formula=formula,
                ea_ev=_float_or_none(cell(row, ea_col)),
                kind="experimental",
                reference=LASKOWSKI_REFERENCE,
                source=source,
                provenance=provenance,
                **sigma,
            )
        )
    return result


def read_obelix_labels(folder: Path) -> list[Label]:
    """The labels of :func:`import_obelix` (skipped rows dropped)."""
    return import_obelix(folder).labels


def read_laskowski_labels(csv_path: Path) -> list[Label]:
    """The labels of :func:`import_laskowski` (skipped rows dropped)."""
    return import_laskowski(csv_path).labels


LABEL_IMPORTERS: dict[str, Callable[[Path], LabelImport]] = {
    "obelix": import_obelix,
    "laskowski": import_laskowski,
    "laskowski-clustering": import_laskowski_clustering,
}
"""Published label sets by name: importer of the set's file or folder."""
