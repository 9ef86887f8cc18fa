"""Result keys are the same in every process, whatever pymatgen cached before."""

from __future__ import annotations

import subprocess
import sys

from sseflows.campaign.plan import canonical_numbers

KEY = """
from pymatgen.core import Lattice, Structure
from pymatgen.io.cif import CifParser, CifWriter
from sseflows.campaign.plan import result_key
from sseflows.core.candidate import Candidate
from sseflows.gates.mp.maker import MPGateMaker

# a structure decorated with oxidation state {first}: pymatgen caches Li+ as first created
made = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
made.add_oxidation_state_by_element({{"Li": {first}, "Cl": -{first}}})
# the pool's CIF, read afterwards, serialises Li+ with that cached 1 or 1.0
read = CifParser.from_str(str(CifWriter(made))).parse_structures(primitive=False)[0]
print(read.as_dict()["sites"][0]["species"][0]["oxidation_state"],
      result_key(Candidate.from_structure(read, "LiCl"), MPGateMaker()))
"""


def _key(first: str) -> tuple[str, str]:
    run = subprocess.run(
        [sys.executable, "-c", KEY.format(first=first)], capture_output=True, text=True,
        timeout=300, check=True,
    )  # fmt: skip
    oxidation_state, key = run.stdout.split()[-2:]
    return oxidation_state, key


def test_result_key_does_not_depend_on_how_pymatgen_cached_a_species() -> None:
    """A process that first made Li+ with oxidation state 1 and one that made it with 1.0
    serialise the same structure differently (``1`` / ``1.0``); the key is the same."""
    (int_state, int_key), (float_state, float_key) = _key("1"), _key("1.0")
    assert (int_state, float_state) == ("1", "1.0")  # the same structure serialised apart
    assert int_key == float_key


def test_canonical_numbers_makes_every_number_a_float_and_keeps_bools() -> None:
    value = {"a": 1, "b": [0, 2.5, True], "c": {"d": False, "e": None, "f": "1"}}
    assert canonical_numbers(value) == {"a": 1.0, "b": [0.0, 2.5, True],
                                        "c": {"d": False, "e": None, "f": "1"}}  # fmt: skip
    assert isinstance(canonical_numbers(1), float) and canonical_numbers(True) is True
