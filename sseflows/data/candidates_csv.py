"""Candidates listed in a CSV file: structure paths and/or Materials Project ids per row.

Columns (header names, case-insensitive; extra columns are ignored):

* ``path`` — a structure file; a relative path is resolved against the CSV's folder;
* ``mp_id`` — a Materials Project id; a row with an mp-id and no path gets its structure
  from the ``structure_lookup`` it is given (the MP gate's snapshot or API). A row with both
  reads the file and records the mp-id;
* ``composition`` — a formula (fractions allowed, e.g. ``Li6.4La3Zr1.4Ta0.6O12``) for a
  composition-only candidate: no structure, so only the ranking stage (composition
  representations) can judge it; the structure tiers fail it with their reason;
* ``id`` — optional candidate id; it must already be safe (letters, digits, ``.``, ``_``,
  ``-``); an unsafe one is a failure of that row, never silently rewritten;
* ``e_hull_ev_per_atom`` (eV/atom) and ``band_gap_ev`` (eV) — optional known values,
  which the MP gate uses before any look-up.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

from pymatgen.core import Composition, Structure

from sseflows.core.candidate import Candidate, make_candidate_id, validate_candidate_id
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.data.files import read_structure_file
from sseflows.data.records import ReadFailure

StructureLookup = Callable[[str], Structure | None]
"""Returns the structure of an mp-id, or None when the source has no entry for it."""

PROPERTY_COLUMNS = ("e_hull_ev_per_atom", "band_gap_ev")


def _number(text: str, column: str, candidate_id: str) -> float | None:
    """``text`` as a float, None when empty; CandidateError when it is not a number."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise CandidateError(candidate_id, f"{column} '{text}' is not a number")
    return value


def _row_candidate(
    row: dict[str, str], line: int, folder: Path, structure_lookup: StructureLookup | None
) -> Candidate:
    """The candidate of one CSV row (raises CandidateError naming it)."""
    path_text = row.get("path", "").strip()
    mp_id = row.get("mp_id", "").strip() or None
    composition = row.get("composition", "").strip()
    explicit = row.get("id", "").strip()
    if explicit:
        candidate_id = validate_candidate_id(explicit)
    elif path_text:
        candidate_id = make_candidate_id(Path(path_text).stem)
    elif mp_id:
        candidate_id = make_candidate_id(mp_id)
    elif composition:
        candidate_id = make_candidate_id(composition)
    else:
        raise CandidateError(
            f"csv-line-{line}", f"line {line} gives neither a path, an mp_id nor a composition"
        )
    properties = {col: _number(row.get(col, ""), col, candidate_id) for col in PROPERTY_COLUMNS}

    if path_text:
        path = Path(path_text).expanduser()
        if not path.is_absolute():
            path = folder / path
        candidate = read_structure_file(path, candidate_id)
        return candidate.model_copy(update={"mp_id": mp_id, **properties})
    if mp_id is None:  # a composition-only row (checked above)
        return _composition_candidate(composition, candidate_id, properties)
    if structure_lookup is None:
        raise CandidateError(
            candidate_id,
            f"{mp_id} has no structure source (give an MP snapshot or set MP_API_KEY)",
        )
    structure = structure_lookup(mp_id)
    if structure is None:
        raise CandidateError(candidate_id, f"no structure was found for {mp_id}")
    return Candidate.from_structure(
        structure,
        candidate_id,
        source=mp_id,
        mp_id=mp_id,
        provenance={"reader": "mp-lookup"},
        **properties,
    )


def _composition_candidate(
    composition: str, candidate_id: str, properties: dict[str, float | None]
) -> Candidate:
    """A structure-less candidate of ``composition`` (raises CandidateError if unparsable)."""
    try:
        parsed = Composition(composition)
    except (ValueError, KeyError) as exc:
        raise CandidateError(candidate_id, f"{composition!r} is not a composition ({exc})") from exc
    if parsed["Li"] <= 0:
        raise CandidateError(candidate_id, f"{composition} contains no Li")
    return Candidate.model_validate(
        {
            "id": candidate_id,
            "formula": parsed.reduced_formula,
            "source": composition,
            "provenance": {"reader": "composition", "composition": parsed.formula},
            **properties,
        }
    )


def read_candidates_csv(
    csv_path: str | Path, structure_lookup: StructureLookup | None = None
) -> list[Candidate | ReadFailure]:
    """One :class:`Candidate` or :class:`ReadFailure` per data row of ``csv_path``.

    Raises:
        ConfigurationError: the file does not exist or has neither a ``path`` nor an
            ``mp_id`` column.
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise ConfigurationError(f"Candidate list {csv_path} does not exist.")
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip().lower() for name in reader.fieldnames or []]
        if not {"path", "mp_id", "composition"} & set(header):
            raise ConfigurationError(
                f"Candidate list {csv_path} needs a 'path', 'mp_id' or 'composition' column "
                f"(found: {', '.join(header) or 'no header'})."
            )
        rows = [
            {(k or "").strip().lower(): (v or "") for k, v in raw.items() if isinstance(v, str)}
            for raw in reader
        ]
    items: list[Candidate | ReadFailure] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        source = f"{csv_path}:{number}"
        try:
            candidate = _row_candidate(row, number, csv_path.parent, structure_lookup)
        except CandidateError as exc:
            items.append(ReadFailure(make_candidate_id(exc.candidate_id), source, str(exc)))
            continue
        provenance = {**candidate.provenance, "csv": str(csv_path), "csv_line": number}
        items.append(candidate.model_copy(update={"provenance": provenance}))
    return items
