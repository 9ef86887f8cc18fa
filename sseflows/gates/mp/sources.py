"""Where Materials Project E_hull and band gaps come from: a local snapshot or the live API.

Sources answer two questions, ``by_id(mp_id)`` and ``by_formula(reduced_formula)``, with
:class:`MPEntry` objects. Three implementations:

* :class:`SnapshotSource` — a maggma store of MP *summary* documents (``material_id``,
  ``formula_pretty``, ``structure`` as a dict, ``energy_above_hull``, ``band_gap``, ...).
  Works offline, so compute nodes without internet can run the gate. Filled by
  :func:`fill_snapshot` (``sseflows mp snapshot``) or read from a JSON file.
* :class:`LiveSource` — the ``mp-api`` client (summary endpoint). It is constructed lazily:
  no connection is made until a query is actually needed, and :func:`build_mp_source`
  adds it only when an API key is configured and :func:`live_api_problem` finds the API
  reachable. That check runs once per process (worker processes forked after it inherit
  its answer) and an unreachable API is one warning line, not an error: candidates fall
  back to the snapshot or to the missing-data policy, with the reason
  :data:`UNREACHABLE` (compute nodes have no network).
* :class:`ChainSource` — several sources in order; the first one that answers wins.

Sources may also answer ``entries_in_chemsys(chemsys)`` with the MP computed entries of a
chemical system and its subsystems (the phase diagram of the oxidation-limit filter,
:mod:`sseflows.gates.filters`): the live API through mp-api's ``get_entries_in_chemsys``,
a snapshot from its entries collection (:data:`MP_ENTRIES_COLLECTION`; in a JSON snapshot
the ``entries`` mapping ``{chemsys: [entry dicts]}``). A snapshot written before entries
existed still loads; it simply answers no chemical system.

Units: ``energy_above_hull`` in eV/atom, ``band_gap`` in eV (as in MP documents).
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse

from maggma.core import Store
from maggma.stores import MemoryStore
from monty.json import MontyDecoder
from pydantic import BaseModel, ConfigDict, Field
from pymatgen.core import Composition, Structure
from pymatgen.entries.computed_entries import ComputedEntry

from sseflows.core.errors import ConfigurationError
from sseflows.settings import load_settings
from sseflows.stores import MP_SNAPSHOT_COLLECTION, build_store

logger = logging.getLogger(__name__)

UNREACHABLE = "Materials Project API unreachable"
"""What a candidate's reason says when the live API was configured but could not be used."""

MP_ENTRIES_COLLECTION = f"{MP_SNAPSHOT_COLLECTION}_entries"
"""Collection of a store snapshot holding ``{"chemsys": "Li-P-S", "entries": [...]}``."""

SUMMARY_FIELDS: tuple[str, ...] = (
    "material_id",
    "formula_pretty",
    "chemsys",
    "structure",
    "energy_above_hull",
    "band_gap",
    "is_stable",
    "builder_meta",
)
"""Summary-endpoint fields the gate needs; nothing else is downloaded."""


class MPEntry(BaseModel):
    """One Materials Project material, reduced to what the MP gate needs.

    Attributes:
        material_id: MP id, e.g. ``mp-1960``.
        formula_pretty: Reduced formula as MP writes it (pymatgen ``reduced_formula``).
        structure: The MP structure, or None when the document carries none.
        energy_above_hull: Energy above the convex hull, eV/atom.
        band_gap: Band gap, eV.
        is_stable: True when on the hull.
        database_version: MP database release the values come from.
        source: Which source produced the entry (``snapshot`` or ``live``).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    material_id: str
    formula_pretty: str
    structure: Structure | None = None
    energy_above_hull: float | None = Field(default=None, description="eV/atom")
    band_gap: float | None = Field(default=None, description="eV")
    is_stable: bool | None = None
    database_version: str | None = None
    source: str | None = None


@runtime_checkable
class MPSource(Protocol):
    """Anything that can look up MP entries by id and by reduced formula."""

    name: str

    def by_id(self, mp_id: str) -> MPEntry | None:
        """The entry with this MP id, or None."""
        ...

    def by_formula(self, reduced_formula: str) -> list[MPEntry]:
        """All entries (polymorphs) with this reduced formula; empty when none."""
        ...


def _number(value: Any) -> float | None:
    """A float, with None/NaN (missing in MP documents) as None."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def summary_doc(raw: Any) -> dict[str, Any]:
    """Normalise one MP summary document (dict or emmet model) to the snapshot shape.

    The snapshot keeps ``material_id``, ``formula_pretty``, ``chemsys``, ``structure`` (as a
    dict), ``energy_above_hull`` (eV/atom), ``band_gap`` (eV), ``is_stable`` and
    ``database_version`` (taken from ``builder_meta`` when the API nests it there).
    """
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump()
    raw = dict(raw)
    structure = raw.get("structure")
    if isinstance(structure, Structure):
        structure = structure.as_dict()
    meta = raw.get("builder_meta") or {}
    if hasattr(meta, "model_dump"):
        meta = meta.model_dump()
    formula = raw.get("formula_pretty")
    if not formula and structure:
        formula = Structure.from_dict(structure).composition.reduced_formula
    return {
        "material_id": str(raw["material_id"]),
        "formula_pretty": formula,
        "chemsys": raw.get("chemsys"),
        "structure": structure,
        "energy_above_hull": _number(raw.get("energy_above_hull")),
        "band_gap": _number(raw.get("band_gap")),
        "is_stable": raw.get("is_stable"),
        "database_version": raw.get("database_version") or meta.get("database_version"),
    }


def entry_from_doc(doc: dict[str, Any], source: str) -> MPEntry:
    """Build an :class:`MPEntry` from a snapshot-shaped (or raw summary) document."""
    doc = summary_doc(doc)
    structure = doc["structure"]
    try:
        parsed = Structure.from_dict(structure) if structure else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"MP document {doc['material_id']} in the {source} source has an unreadable "
            f"structure ({exc})."
        ) from exc
    return MPEntry(
        material_id=doc["material_id"],
        formula_pretty=doc["formula_pretty"] or "",
        structure=parsed,
        energy_above_hull=doc["energy_above_hull"],
        band_gap=doc["band_gap"],
        is_stable=doc["is_stable"],
        database_version=doc["database_version"],
        source=source,
    )


class SnapshotSource:
    """MP summary documents in a maggma store (offline).

    Args:
        store: Any maggma store holding snapshot-shaped documents; connected on first use.
        entries_store: Store of computed entries per chemical system (None: the snapshot
            holds no entries, as snapshots written before entries existed).
    """

    name = "snapshot"

    def __init__(self, store: Store, entries_store: Store | None = None) -> None:
        self.store = store
        self.entries_store = entries_store
        self._connected = False
        self._entries_connected = False

    def _query(self, criteria: dict[str, Any]) -> list[MPEntry]:
        if not self._connected:
            self.store.connect()
            self._connected = True
        return [entry_from_doc(doc, self.name) for doc in self.store.query(criteria=criteria)]

    def by_id(self, mp_id: str) -> MPEntry | None:
        """The snapshot document with ``material_id == mp_id``, or None."""
        found = self._query({"material_id": mp_id})
        return found[0] if found else None

    def by_formula(self, reduced_formula: str) -> list[MPEntry]:
        """Snapshot documents whose ``formula_pretty`` is ``reduced_formula``."""
        return self._query({"formula_pretty": reduced_formula})

    def entries_in_chemsys(self, chemsys: str) -> list[ComputedEntry] | None:
        """The stored entries of ``chemsys`` (``Li-S``) and its subsystems, taken from the
        document of that system or of any stored system containing it; None when none."""
        if self.entries_store is None:
            return None
        if not self._entries_connected:
            self.entries_store.connect()
            self._entries_connected = True
        wanted = set(chemsys.split("-"))
        for doc in self.entries_store.query(criteria={}, properties=["chemsys", "entries"]):
            if wanted <= set(str(doc["chemsys"]).split("-")):
                entries = decode_entries(doc["entries"])
                return [e for e in entries if {el.symbol for el in e.composition} <= wanted]
        return None


def decode_entries(raw: Sequence[dict[str, Any]]) -> list[ComputedEntry]:
    """Computed entries from their ``as_dict()`` form (what a snapshot stores)."""
    return [MontyDecoder().process_decoded(dict(d)) for d in raw]


def chemsys_key(chemsys: str) -> str:
    """``chemsys`` with its elements sorted (``S-Li`` → ``Li-S``), as snapshots key it."""
    return "-".join(sorted(el.strip() for el in chemsys.split("-") if el.strip()))


def entries_in_chemsys(source: Any, chemsys: str) -> tuple[list[ComputedEntry], str] | None:
    """The entries of ``chemsys`` from ``source`` and the name of the source that had them,
    or None when it has none (sources without entry support answer None)."""
    ask = getattr(source, "entries_in_chemsys", None)
    if ask is None:
        return None
    if isinstance(source, ChainSource):
        return source.entries_with_source(chemsys_key(chemsys))
    found = ask(chemsys_key(chemsys))
    return None if found is None else (found, source.name)


def _mp_rester(api_key: str, endpoint: str | None = None) -> Any:
    """An ``mp_api`` MPRester returning plain dicts (imported here: the client is heavy)."""
    from mp_api.client import MPRester

    return MPRester(api_key, endpoint=endpoint, use_document_model=False, mute_progress_bars=True)


@functools.lru_cache(maxsize=8)
def live_api_problem(endpoint: str, timeout_s: float) -> str | None:
    """None when the MP API at ``endpoint`` answers within ``timeout_s`` (s), else one
    sentence saying it is unreachable; asked once per process and warned about once.

    The request is mp-api's own first one (``heartbeat``), through ``requests``, so proxy
    settings apply; any HTTP answer, even an error status, counts as reachable.
    """
    import requests

    url = endpoint.rstrip("/") + "/heartbeat"
    try:
        requests.get(url, timeout=timeout_s)
    except requests.Timeout:
        cause = f"no answer within {timeout_s:g} s"
    except (requests.RequestException, OSError):
        cause = "connection failed"
    else:
        return None
    host = urlparse(endpoint).netloc.rpartition("@")[2]
    problem = f"{UNREACHABLE} ({host}: {cause})"
    logger.warning("%s; using the MP snapshot and the missing-data policy instead.", problem)
    return problem


def _live_errors() -> tuple[type[BaseException], ...]:
    from mp_api.client.core import MPRestError
    from requests import RequestException

    return (MPRestError, RequestException, OSError)


def search_summary(rester: Any, **criteria: Any) -> list[dict[str, Any]]:
    """Summary documents matching ``criteria``, normalised by :func:`summary_doc`.

    Raises :class:`ConfigurationError` when the API cannot be reached or refuses the key.
    """
    try:
        docs = rester.materials.summary.search(fields=list(SUMMARY_FIELDS), **criteria)
    except _live_errors() as exc:
        raise ConfigurationError(
            f"The Materials Project API request failed ({exc}); check MP_API_KEY and the "
            "network, or unset MP_API_KEY and run from a snapshot."
        ) from exc
    return [summary_doc(doc) for doc in docs]


def _api_formula(reduced_formula: str) -> str:
    """A formula the MP API parses (no parentheses): ``Li10Ge(PS6)2`` -> ``Li10Ge1P2S12``."""
    return Composition(reduced_formula).reduced_composition.formula.replace(" ", "")


class LiveSource:
    """The Materials Project web API through ``mp_api.client.MPRester`` (summary endpoint).

    Nothing is contacted until the first query; answers are cached per instance. When the
    API stops answering mid-run, the source sets :attr:`unavailable` and answers nothing
    from then on (one warning); an API that answers but refuses the request (a bad key)
    is a :class:`ConfigurationError`.

    Args:
        api_key: Materials Project API key.
        endpoint: API address (None: mp-api's default or ``MP_API_ENDPOINT``).
    """

    name = "live"

    def __init__(self, api_key: str, endpoint: str | None = None) -> None:
        self.api_key = api_key
        self.endpoint = endpoint
        self.unavailable: list[str] = []
        self._rester: Any = None
        self._cache: dict[tuple[str, str], list[MPEntry]] = {}
        self._entries: dict[str, list[ComputedEntry]] = {}

    def __repr__(self) -> str:
        return f"LiveSource(endpoint={self.endpoint!r})"  # never the key

    def _search(self, key: str, value: str) -> list[MPEntry]:
        if self.unavailable:
            return []
        if (key, value) not in self._cache:
            unreachable: tuple[type[BaseException], ...] = (ConfigurationError, *_live_errors())
            try:
                if self._rester is None:
                    self._rester = _mp_rester(self.api_key, self.endpoint)
                docs = search_summary(self._rester, **{key: value})
            except unreachable:
                endpoint = self.endpoint or load_settings().mp_api_endpoint
                live_api_problem.cache_clear()
                if live_api_problem(endpoint, load_settings().service_timeout_s) is None:
                    raise  # the API answers: the request itself was refused
                self.unavailable = [UNREACHABLE]
                return []
            self._cache[key, value] = [entry_from_doc(doc, self.name) for doc in docs]
        return self._cache[key, value]

    def by_id(self, mp_id: str) -> MPEntry | None:
        """The live summary document of ``mp_id``, or None."""
        found = self._search("material_ids", mp_id)
        return found[0] if found else None

    def by_formula(self, reduced_formula: str) -> list[MPEntry]:
        """All live summary documents with this reduced formula."""
        return self._search("formula", _api_formula(reduced_formula))

    def entries_in_chemsys(self, chemsys: str) -> list[ComputedEntry] | None:
        """mp-api's ``get_entries_in_chemsys`` (MP2020-corrected); None once unreachable."""
        if self.unavailable:
            return None
        if chemsys not in self._entries:
            try:
                if self._rester is None:
                    self._rester = _mp_rester(self.api_key, self.endpoint)
                self._entries[chemsys] = list(
                    self._rester.get_entries_in_chemsys(chemsys.split("-"))
                )
            except _live_errors():
                self.unavailable = [UNREACHABLE]
                return None
        return self._entries[chemsys] or None


class ChainSource:
    """Several sources asked in order; the first one with an answer wins.

    Args:
        sources: Sources in order of preference (snapshot before live).
        unavailable: Sources that were configured but could not be used, one phrase each
            (e.g. :data:`UNREACHABLE`).
    """

    def __init__(self, sources: list[MPSource], unavailable: Sequence[str] = ()) -> None:
        self.sources = list(sources)
        self.name = "+".join(source.name for source in self.sources) or "none"
        self._unavailable = list(unavailable)

    @property
    def unavailable(self) -> list[str]:
        """Configured sources that could not be used (this chain's and its sources')."""
        found = [*self._unavailable]
        for source in self.sources:
            found += getattr(source, "unavailable", [])
        return list(dict.fromkeys(found))

    def by_id(self, mp_id: str) -> MPEntry | None:
        """The first source's entry for ``mp_id``."""
        for source in self.sources:
            entry = source.by_id(mp_id)
            if entry is not None:
                return entry
        return None

    def by_formula(self, reduced_formula: str) -> list[MPEntry]:
        """The entries of the first source that has any for ``reduced_formula``."""
        for source in self.sources:
            entries = source.by_formula(reduced_formula)
            if entries:
                return entries
        return []

    def entries_with_source(self, chemsys: str) -> tuple[list[ComputedEntry], str] | None:
        """The computed entries of ``chemsys`` from the live API first (the newest data),
        else the first snapshot holding them, with that source's name; None when none."""
        ordered = sorted(self.sources, key=lambda s: s.name != "live")
        for source in ordered:
            found = entries_in_chemsys(source, chemsys)
            if found is not None:
                return found
        return None

    def entries_in_chemsys(self, chemsys: str) -> list[ComputedEntry] | None:
        """The computed entries of ``chemsys`` (:meth:`entries_with_source`)."""
        found = self.entries_with_source(chemsys)
        return None if found is None else found[0]


def read_snapshot_json(path: str | Path) -> list[dict[str, Any]]:
    """Snapshot documents from a JSON file: a list of docs, or ``{"docs": [...], ...}``."""
    path = Path(path)
    try:
        loaded = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"MP snapshot file {path} cannot be read: {exc}.") from exc
    docs = loaded.get("docs") if isinstance(loaded, dict) else loaded
    if not isinstance(docs, list) or not all(
        isinstance(doc, dict) and "material_id" in doc for doc in docs
    ):
        raise ConfigurationError(
            f"MP snapshot file {path} must hold a list of summary documents with a "
            "'material_id' each (or a mapping with such a list under 'docs')."
        )
    return [summary_doc(doc) for doc in docs]


def read_snapshot_entries_json(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The ``entries`` mapping ``{chemsys: [entry dicts]}`` of a JSON snapshot; empty for a
    snapshot without one (a plain list, or written before entries existed)."""
    try:
        loaded = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"MP snapshot file {path} cannot be read: {exc}.") from exc
    entries = loaded.get("entries") if isinstance(loaded, dict) else None
    if entries is None:
        return {}
    if not isinstance(entries, dict) or not all(isinstance(v, list) for v in entries.values()):
        raise ConfigurationError(
            f"MP snapshot file {path} has an 'entries' field that is not a mapping of "
            "chemical systems to lists of entries."
        )
    return {chemsys_key(k): v for k, v in entries.items()}


def write_snapshot_json(
    docs: Sequence[dict[str, Any]],
    path: str | Path,
    entries: dict[str, list[dict[str, Any]]] | None = None,
) -> Path:
    """Write snapshot documents that :func:`open_snapshot` reads back: a JSON list, or with
    ``entries`` (``{chemsys: [entry dicts]}``) a mapping ``{"docs": [...], "entries": {...}}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = [summary_doc(doc) for doc in docs]
    payload: Any = {"docs": summary, "entries": entries} if entries else summary
    path.write_text(json.dumps(payload, indent=1) + "\n")
    return path


def open_snapshot_entries(spec: str) -> Store | None:
    """The entries store of the snapshot ``spec``, connected; None for a JSON snapshot
    without entries."""
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".json" or path.is_file():
        entries = read_snapshot_entries_json(path) if path.is_file() else {}
        if not entries:
            return None
        store: Store = MemoryStore(collection_name=MP_ENTRIES_COLLECTION)
        store.connect()
        store.update([{"chemsys": k, "entries": v} for k, v in entries.items()], key="chemsys")
        return store
    store = build_store(MP_ENTRIES_COLLECTION, spec)
    store.connect()
    return store


def open_snapshot(spec: str) -> Store:
    """The snapshot store named by ``spec``, connected.

    A JSON file (see :func:`read_snapshot_json`) is loaded into a ``MemoryStore``; any
    other spec is a store spec for :func:`sseflows.stores.build_store`.
    """
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".json" or path.is_file():
        if not path.is_file():
            raise ConfigurationError(f"MP snapshot file {path} does not exist.")
        store: Store = MemoryStore(collection_name=MP_SNAPSHOT_COLLECTION)
        store.connect()
        docs = read_snapshot_json(path)
        if docs:
            store.update(docs, key="material_id")
        return store
    store = build_store(MP_SNAPSHOT_COLLECTION, spec)
    store.connect()
    return store


def build_mp_source(
    snapshot: str | None = None, api_key: str | None = None, use_live: bool = True
) -> ChainSource:
    """Snapshot (default: the ``mp_snapshot`` setting) then, with a key, the live API.

    The key defaults to the ``mp_api_key`` setting (``MP_API_KEY``). Without a key the live
    API is never added, so nothing is ever contacted. With a key, the API is added only
    when :func:`live_api_problem` finds it reachable; otherwise the chain records
    :data:`UNREACHABLE` in ``unavailable``.
    """
    settings = load_settings()
    snapshot = snapshot or settings.mp_snapshot
    api_key = api_key or settings.mp_api_key
    sources: list[MPSource] = []
    unavailable: list[str] = []
    if snapshot:
        sources.append(SnapshotSource(open_snapshot(snapshot), open_snapshot_entries(snapshot)))
    if use_live and api_key:
        if live_api_problem(settings.mp_api_endpoint, settings.service_timeout_s) is None:
            sources.append(LiveSource(api_key, settings.mp_api_endpoint))
        else:
            unavailable.append(UNREACHABLE)
    return ChainSource(sources, unavailable)


def fill_snapshot(
    store: Store, api_key: str, mp_ids: Sequence[str] = (), chemsys: Sequence[str] = ()
) -> int:
    """Download summary documents by MP id and/or chemical system into ``store``.

    Returns the number of documents written. Raises :class:`ConfigurationError` without a
    key or without anything to download.
    """
    if not api_key:
        raise ConfigurationError(
            "MP_API_KEY is not set, so the Materials Project cannot be queried."
        )
    if not mp_ids and not chemsys:
        raise ConfigurationError("Give at least one MP id or chemical system to download.")
    settings = load_settings()
    problem = live_api_problem(settings.mp_api_endpoint, settings.service_timeout_s)
    if problem is not None:
        raise ConfigurationError(f"{problem}, so no snapshot can be downloaded.")
    rester = _mp_rester(api_key, settings.mp_api_endpoint)
    docs: dict[str, dict[str, Any]] = {}
    if mp_ids:
        for doc in search_summary(rester, material_ids=list(mp_ids)):
            docs[doc["material_id"]] = doc
    for system in chemsys:
        for doc in search_summary(rester, chemsys=system):
            docs[doc["material_id"]] = doc
    store.connect()
    if docs:
        store.update(list(docs.values()), key="material_id")
    return len(docs)


def fill_snapshot_entries(store: Store, api_key: str, chemsys: Sequence[str]) -> int:
    """Download the computed entries of each chemical system in ``chemsys`` (and its
    subsystems, mp-api's ``get_entries_in_chemsys``) into ``store``, one document
    ``{"chemsys", "entries"}`` per system; returns the number of entries written.

    Raises :class:`ConfigurationError` without a key or when the API cannot be used.
    """
    if not api_key:
        raise ConfigurationError(
            "MP_API_KEY is not set, so the Materials Project cannot be queried."
        )
    settings = load_settings()
    problem = live_api_problem(settings.mp_api_endpoint, settings.service_timeout_s)
    if problem is not None:
        raise ConfigurationError(f"{problem}, so no snapshot can be downloaded.")
    rester = _mp_rester(api_key, settings.mp_api_endpoint)
    docs = []
    for system in dict.fromkeys(chemsys_key(c) for c in chemsys):
        try:
            entries = rester.get_entries_in_chemsys(system.split("-"))
        except _live_errors() as exc:
            raise ConfigurationError(
                f"The Materials Project API request for the entries of {system} failed "
                f"({exc}); check MP_API_KEY and the network."
            ) from exc
        docs.append({"chemsys": system, "entries": [e.as_dict() for e in entries]})
    store.connect()
    if docs:
        store.update(docs, key="chemsys")
    return sum(len(d["entries"]) for d in docs)
