"""CHGNet NEB engine: barriers from energies, failed documents, and one real small NEB."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Lattice, Structure

from sseflows.campaign.feedback import label_from_doc
from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.core.hops import rattle_endpoints
from sseflows.core.neb import band_problem, barriers_from_energies, reaction_coordinate
from sseflows.flows.tiers import bvse_seed_path
from sseflows.forcefields.neb import ChgnetNebMaker, ForceFieldNebMaker, force_field_calculator
from sseflows.stores import build_job_store


def _licl_primitive() -> Structure:
    conventional = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    return conventional.get_primitive_structure()


def test_barriers_from_energies() -> None:
    assert barriers_from_energies([0.0, 0.2, 0.5, 0.3, 0.1]) == pytest.approx((0.5, 0.4))
    assert barriers_from_energies([-1.0, -1.3, -2.0]) == pytest.approx((0.0, 1.0))
    with pytest.raises(ValueError, match="two images"):
        barriers_from_energies([0.1])


def test_reaction_coordinate_sums_configuration_distances() -> None:
    lattice = Lattice.cubic(10.0)
    images = [Structure(lattice, ["Li", "O"], [[x, 0, 0], [0.5, 0.5, 0.5]]) for x in (0, 0.3, 0.7)]
    assert reaction_coordinate(images) == pytest.approx([0.0, 3.0, 7.0])


@pytest.mark.parametrize(
    ("structure", "maker_kwargs", "message"),
    [
        (
            Structure(Lattice.cubic(5.6), ["Na", "Cl"], [[0] * 3, [0.5] * 3]),
            {},
            "contains no Li",
        ),
        (
            Structure(Lattice.cubic(6.0), ["Li", "Cl"], [[0] * 3, [0.5] * 3]),
            {},
            "no two Li sites are closer",
        ),
        (_licl_primitive(), {"max_atoms": 20}, "max_atoms=20"),
        (_licl_primitive(), {"hop_index": 3, "hops": "one"}, "has 1 distinct Li hops"),
    ],
)
def test_bad_input_gives_a_failed_document(structure, maker_kwargs, message) -> None:
    candidate = Candidate.from_structure(structure, "bad-1")
    doc = ChgnetNebMaker(**maker_kwargs).compute(candidate)
    assert doc.status == "failed"
    assert doc.engine == "chgnet"
    assert doc.reason.startswith("Candidate 'bad-1': ")
    assert message in doc.reason
    assert doc.barrier_ev is None


@pytest.mark.slow
def test_chgnet_neb_on_licl_through_jobflow() -> None:
    """Rock-salt LiCl, supercell ≥ 5.5 Å (12 atoms, 11 with the vacancy), 3 images, the
    fcc Li–Li hop a/√2. Runs the real CHGNet potential (weights ship with chgnet).

    Asserts what the protocol promises on any machine, not whether FIRE happens to finish
    inside a step cap: the stages add up, the climbing stage runs only after a converged
    plain stage, and the barrier is the band's own maximum."""
    candidate = Candidate.from_structure(_licl_primitive(), "LiCl-test")
    maker = ChgnetNebMaker(
        n_images=3, min_length=5.5, max_steps=400, image_method="idpp", hops="one"
    )
    store = build_job_store("memory")
    neb_job = maker.make(candidate)
    responses = run_locally(neb_job, store=store, ensure_success=True)
    doc = responses[neb_job.uuid][1].output

    assert doc.status == "completed"
    assert doc.engine == "chgnet"
    assert doc.hop.length_angstrom == pytest.approx(5.13 / 2**0.5)
    assert min(doc.supercell_lengths_angstrom) >= 5.5
    assert round(abs(np.linalg.det(doc.supercell_matrix))) * 2 == 12
    assert len(doc.energies_ev) == 5
    assert doc.energies_ev[0] == 0.0
    assert np.isfinite(doc.barrier_ev)
    assert doc.barrier_ev == pytest.approx(max(doc.energies_ev) - doc.energies_ev[0])
    assert doc.barrier_back_ev == pytest.approx(max(doc.energies_ev) - doc.energies_ev[-1])
    assert 0.0 < doc.barrier_ev < 2.0
    assert doc.iterations == doc.plain_iterations + doc.climb_iterations
    assert doc.plain_iterations > 0 and doc.iterations <= maker.max_steps
    if doc.climbing_image:  # the CI restart starts only from a converged plain band
        assert doc.plain_converged and doc.climb_iterations >= 0
    else:
        assert doc.climb_iterations == 0 and doc.converged == doc.plain_converged
    if not doc.plain_converged:
        assert not doc.climbing_image and not doc.converged
    assert doc.wall_s > 0
    assert doc.reaction_coordinate_angstrom[-1] > doc.hop.length_angstrom - 1e-6
    assert doc.settings["image_method_used"] == "idpp"
    assert doc.endpoint_rattle_angstrom == 0.02 and doc.endpoint_replacements == []

    # The images went to the data store, not into the docs collection.
    docs_entry = store.query_one({"uuid": neb_job.uuid})
    assert "@class" in str(docs_entry["output"]["images"])  # a blob reference
    images = store.get_output(neb_job.uuid, load=True)["images"]
    assert len(images) == 5
    moving = [Structure.from_dict(image) for image in images]
    assert len(moving[0]) == 11


def test_prepare_and_seed_without_the_potential() -> None:
    """Geometry and seeding need no CHGNet evaluation when endpoints are not relaxed."""
    candidate = Candidate.from_structure(_licl_primitive(), "LiCl-seed")
    maker = ChgnetNebMaker(n_images=3, min_length=5.5, relax_endpoints=False)
    setup = maker.prepare(candidate)
    assert len(setup.initial) == 11
    assert min(setup.supercell_lengths) >= 5.5

    start = setup.initial.cart_coords[setup.moving_index]
    hop = setup.final.cart_coords[setup.moving_index] - start
    bulge = np.cross(hop, [0.0, 0.0, 1.0])
    bulge *= 0.8 / np.linalg.norm(bulge)
    path = np.array([start, start + hop / 2 + bulge, start + hop])
    images, method = maker.seed_images(setup, path)
    assert method == "bvse"
    middle = images[2].cart_coords[setup.moving_index]
    assert middle == pytest.approx(start + hop / 2 + bulge, abs=1e-6)

    no_cell = replace(setup, structure=None)
    images, method = maker.seed_images(no_cell)
    assert method == "linear (no BVSE path)"  # "bvse" without any path falls back, says so
    assert len(images) == 5


def test_bvse_seed_is_the_path_of_the_computed_hop() -> None:
    """The flow layer's BVSE seed is the path of exactly the Maker's hop (``hop_index``):
    it joins the moving Li's two positions and the seeded Li lie on it."""
    candidate = Candidate.from_structure(_licl_primitive(), "LiCl-bvse")
    maker = ChgnetNebMaker(
        n_images=3, min_length=7.0, relax_endpoints=False, hop_index=1, max_hop_length=5.5
    )
    setup = maker.prepare(candidate)
    assert setup.hop.length_angstrom == pytest.approx(5.13)  # second hop: a, not a/√2
    path = np.asarray(bvse_seed_path(candidate.structure, 1, max_hop_length=5.5))
    start = setup.initial.cart_coords[setup.moving_index]
    hop = setup.final.cart_coords[setup.moving_index] - start
    np.testing.assert_allclose(path[-1] - path[0], hop, atol=1e-9)
    images, method = maker.seed_images(setup, path)
    assert method == "bvse"
    on_path = path - path[0] + start
    for image in images[1:-1]:
        li = image.cart_coords[setup.moving_index]
        assert np.linalg.norm(on_path - li, axis=1).min() < 0.05


@pytest.mark.slow
def test_chgnet_band_that_falls_below_its_endpoints_is_reported_not_a_barrier(monkeypatch):
    """Endpoints seeded high on purpose (every atom rattled by 0.3 Å and not relaxed, the
    analogue of the Li2O endpoints stuck at a symmetric stationary point): the images relax
    far below them. The engine replaces the endpoint nearer the lowest image by that image,
    relaxed, runs the band once more, and, the other endpoint still being high, reports no
    barrier; the band goes to the data store."""
    candidate = Candidate.from_structure(_licl_primitive(), "LiCl-fall")
    maker = ChgnetNebMaker(
        n_images=3,
        min_length=5.5,
        max_steps=40,
        relax_endpoints=False,
        image_method="linear",
        hops="one",
    )
    honest_prepare = ChgnetNebMaker.prepare

    def high_endpoints(self, cand, shared=None):
        setup = honest_prepare(self, cand, shared)
        initial, final = rattle_endpoints(setup.initial, setup.final, 0.3, seed=1)
        return replace(setup, initial=initial, final=final)

    monkeypatch.setattr(ChgnetNebMaker, "prepare", high_endpoints)
    store = build_job_store("memory")
    neb_job = maker.make(candidate)
    doc = run_locally(neb_job, store=store, ensure_success=True)[neb_job.uuid][1].output

    (record,) = doc.endpoint_replacements
    assert record["below_ev"] > 0.3  # far beyond the 0.05 eV tolerance
    assert record["energy_change_ev"] <= 0.0  # a relaxation never raises the energy
    assert record["endpoint"] in ("initial", "final") and 0 < record["image"] < 4
    assert doc.status == "failed" and doc.barrier_ev is None and doc.barrier_back_ev is None
    assert doc.reason.startswith("Candidate 'LiCl-fall': ")
    assert f"also after the {record['endpoint']} endpoint was replaced by relaxed image" in (
        doc.reason
    )
    assert band_problem(doc.energies_ev, maker.band_tolerance_ev) is not None
    assert len(doc.energies_ev) == 5 and doc.energies_ev[0] == 0.0  # the band is kept
    assert len(store.get_output(neb_job.uuid, load=True)["images"]) == 5
    assert label_from_doc(doc.model_dump()) is None  # never a computed label


def test_prepare_rattles_the_endpoints_before_relaxing(monkeypatch):
    """The endpoint relaxations start from symmetry-broken endpoints, and the document
    records it (the relaxation itself is replaced by the identity here)."""
    monkeypatch.setattr(ChgnetNebMaker, "_relax", lambda self, s: s)
    candidate = Candidate.from_structure(_licl_primitive(), "LiCl-rattle")
    plain = ChgnetNebMaker(n_images=3, min_length=5.5, relax_endpoints=False).prepare(candidate)
    rattled = ChgnetNebMaker(n_images=3, min_length=5.5).prepare(candidate)
    shift = np.linalg.norm(rattled.initial.cart_coords - plain.initial.cart_coords, axis=1)
    assert shift == pytest.approx([0.02] * len(shift), abs=1e-9)
    hop = rattled.final.cart_coords - rattled.initial.cart_coords
    np.testing.assert_allclose(hop, plain.final.cart_coords - plain.initial.cart_coords, atol=1e-9)


def test_force_field_and_device_are_fields():
    """Another potential or a GPU is a field: the CHGNet Maker only sets defaults, and a
    potential that cannot be loaded is one configuration sentence."""
    maker = ChgnetNebMaker()
    assert isinstance(maker, ForceFieldNebMaker)
    assert (maker.force_field_name, maker.device, maker.name) == ("CHGNet", "cpu", "chgnet neb")
    with pytest.raises(ConfigurationError, match="Force field 'NoSuchPotential'"):
        force_field_calculator("NoSuchPotential", "cpu")
