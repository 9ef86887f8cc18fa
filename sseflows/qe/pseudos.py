"""Pseudopotential families, the pseudo folder, and cutoffs suggested by the UPF files.

Two families are built in (immutable maps element → file name); ``inputs/pseudos/*.yaml``
hold the same maps for users to copy and edit, and :func:`pseudo_map` reads such a YAML file
when given a path instead of a family name.

* ``pslibrary-1.0.0``: PBE PAW from pslibrary 1.0.0 (Ge and Mn are the psl 0.2.2 / 0.3.1
  files shipped with it).
* ``sssp-efficiency-1.3``: the SSSP 1.3 efficiency file names (PBE); check them against
  your SSSP download, which is not shipped here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from sseflows.core.errors import ConfigurationError
from sseflows.settings import load_settings

_PSL = "pbe-{}kjpaw_psl.{}.UPF"


def _psl(element: str, kind: str = "n-", version: str = "1.0.0") -> str:
    return f"{element}.{_PSL.format(kind, version)}"


PSLIBRARY_1_0_0: Mapping[str, str] = MappingProxyType(
    {
        "H": _psl("H", ""), "He": _psl("He", ""), "Li": _psl("Li", "s-"),
        "Be": _psl("Be", "n-"), "B": _psl("B"), "C": _psl("C"), "N": _psl("N"),
        "O": _psl("O"), "F": _psl("F"), "Na": _psl("Na", "spn-"), "Mg": _psl("Mg", "spnl-"),
        "Al": _psl("Al"), "Si": _psl("Si"), "P": _psl("P"), "S": _psl("S"), "Cl": _psl("Cl"),
        "K": _psl("K", "spn-"), "Ca": _psl("Ca", "spn-"), "Sc": _psl("Sc", "spn-"),
        "Ti": _psl("Ti", "spn-"), "V": _psl("V", "spnl-"), "Cr": _psl("Cr", "spn-"),
        "Mn": _psl("Mn", "spn-", "0.3.1"), "Fe": _psl("Fe", "spn-"), "Co": _psl("Co", "spn-"),
        "Ni": _psl("Ni", "spn-"), "Cu": _psl("Cu", "dn-"), "Zn": _psl("Zn", "dnl-"),
        "Ga": _psl("Ga", "dn-"), "Ge": _psl("Ge", "dn-", "0.2.2"), "As": _psl("As"),
        "Se": _psl("Se", "dn-"), "Br": _psl("Br", "dn-"), "Rb": _psl("Rb", "spn-"),
        "Sr": _psl("Sr", "spn-"), "Y": _psl("Y", "spn-"), "Zr": _psl("Zr", "spn-"),
        "Nb": _psl("Nb", "spn-"), "Mo": _psl("Mo", "spn-"), "Ag": _psl("Ag"),
        "Cd": _psl("Cd"), "In": _psl("In", "dn-"), "Sn": _psl("Sn", "dn-"), "Sb": _psl("Sb"),
        "Te": _psl("Te"), "I": _psl("I"), "Cs": _psl("Cs", "spn-"), "Ba": _psl("Ba", "spn-"),
        "La": _psl("La", "spfn-"), "Er": _psl("Er", "spdn-"), "Hf": _psl("Hf", "spn-"),
        "Ta": _psl("Ta", "spfn-"), "W": _psl("W", "spn-"), "Au": _psl("Au"),
        "Pb": _psl("Pb", "dn-"), "Bi": _psl("Bi", "dn-"),
    }
)  # fmt: skip

SSSP_EFFICIENCY_1_3: Mapping[str, str] = MappingProxyType(
    {
        "H": "H.pbe-rrkjus_psl.1.0.0.UPF", "Li": "li_pbe_v1.4.uspp.F.UPF",
        "Be": "be_pbe_v1.4.uspp.F.UPF", "B": "b_pbe_v1.4.uspp.F.UPF",
        "C": "C.pbe-n-kjpaw_psl.1.0.0.UPF", "N": "N.pbe-n-radius_5.UPF",
        "O": "O.pbe-n-kjpaw_psl.0.1.UPF", "F": "f_pbe_v1.4.uspp.F.UPF",
        "Na": "na_pbe_v1.5.uspp.F.UPF", "Mg": "mg_pbe_v1.4.uspp.F.UPF",
        "Al": "Al.pbe-n-kjpaw_psl.1.0.0.UPF", "Si": "Si.pbe-n-rrkjus_psl.1.0.0.UPF",
        "P": "P.pbe-n-rrkjus_psl.1.0.0.UPF", "S": "s_pbe_v1.4.uspp.F.UPF",
        "Cl": "cl_pbe_v1.4.uspp.F.UPF", "K": "K.pbe-spn-kjpaw_psl.1.0.0.UPF",
        "Ca": "Ca_pbe_v1.uspp.F.UPF", "Sc": "Sc.pbe-spn-kjpaw_psl.0.2.3.UPF",
        "Ti": "ti_pbe_v1.4.uspp.F.UPF", "V": "v_pbe_v1.4.uspp.F.UPF",
        "Cr": "cr_pbe_v1.5.uspp.F.UPF", "Mn": "mn_pbe_v1.5.uspp.F.UPF",
        "Fe": "Fe.pbe-spn-kjpaw_psl.0.2.1.UPF", "Co": "Co_pbe_v1.2.uspp.F.UPF",
        "Ni": "ni_pbe_v1.4.uspp.F.UPF", "Cu": "Cu.paw.z_11.ld1.psl.v1.0.0-low.upf",
        "Zn": "Zn_pbe_v1.uspp.F.UPF", "Ga": "Ga.pbe-dn-kjpaw_psl.1.0.0.UPF",
        "Ge": "ge_pbe_v1.4.uspp.F.UPF", "As": "As.pbe-n-rrkjus_psl.0.2.UPF",
        "Se": "Se_pbe_v1.uspp.F.UPF", "Br": "br_pbe_v1.4.uspp.F.UPF",
        "Rb": "Rb_ONCV_PBE-1.0.oncvpsp.upf", "Sr": "Sr_pbe_v1.uspp.F.UPF",
        "Y": "Y_pbe_v1.uspp.F.UPF", "Zr": "Zr_pbe_v1.uspp.F.UPF",
        "Nb": "Nb.pbe-spn-kjpaw_psl.0.3.0.UPF", "Mo": "Mo_ONCV_PBE-1.0.oncvpsp.upf",
        "Ag": "Ag_ONCV_PBE-1.0.oncvpsp.upf", "Cd": "Cd.pbe-dn-rrkjus_psl.0.3.1.UPF",
        "In": "In.pbe-dn-rrkjus_psl.0.2.2.UPF", "Sn": "Sn_pbe_v1.uspp.F.UPF",
        "Sb": "sb_pbe_v1.4.uspp.F.UPF", "Te": "Te_pbe_v1.uspp.F.UPF",
        "I": "I.pbe-n-kjpaw_psl.0.2.UPF", "Cs": "Cs_pbe_v1.uspp.F.UPF",
        "Ba": "Ba.pbe-spn-kjpaw_psl.1.0.0.UPF",
        "La": "La.paw.z_11.atompaw.wentzcovitch.v1.2.upf", "Er": "Er.GGA-PBE-paw-v1.0.UPF",
        "Hf": "Hf-sp.oncvpsp.upf", "Ta": "Ta_pbe_v1.uspp.F.UPF", "W": "W_pbe_v1.2.uspp.F.UPF",
        "Au": "Au_ONCV_PBE-1.0.oncvpsp.upf", "Pb": "Pb.pbe-dn-kjpaw_psl.0.2.2.UPF",
        "Bi": "Bi_pbe_v1.uspp.F.UPF",
    }
)  # fmt: skip

FAMILIES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"pslibrary-1.0.0": PSLIBRARY_1_0_0, "sssp-efficiency-1.3": SSSP_EFFICIENCY_1_3}
)


def pseudo_map(family: str | Path = "pslibrary-1.0.0") -> dict[str, str]:
    """Element → file name for a built-in ``family`` name or a YAML file of that mapping."""
    if str(family) in FAMILIES:
        return dict(FAMILIES[str(family)])
    path = Path(family)
    if not path.is_file():
        raise ConfigurationError(
            f"Pseudopotential family '{family}' is neither one of {sorted(FAMILIES)} "
            "nor a YAML file."
        )
    loaded = yaml.safe_load(path.read_text())
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        raise ConfigurationError(f"Pseudopotential map {path} must map elements to file names.")
    return {str(k): v for k, v in loaded.items()}


def resolve_pseudo_dir(pseudo_dir: str | Path | None = None) -> Path:
    """The pseudo folder: ``pseudo_dir``, else the ``pseudo_dir`` setting; must exist."""
    folder = pseudo_dir or load_settings().pseudo_dir
    if not folder:
        raise ConfigurationError(
            "No pseudopotential folder: pass pseudo_dir or set ESPRESSO_PSEUDO / "
            "SSEFLOWS_PSEUDO_DIR."
        )
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise ConfigurationError(f"Pseudopotential folder {path} does not exist.")
    return path


def pseudopotentials_for(
    elements: Iterable[str], family: str | Path, pseudo_dir: str | Path
) -> dict[str, str]:
    """File name per element, checked to exist in ``pseudo_dir``.

    Raises:
        ConfigurationError: naming the element and the folder when a file is missing.
    """
    mapping = pseudo_map(family)
    folder = Path(pseudo_dir)
    out: dict[str, str] = {}
    for element in sorted(set(elements)):
        name = mapping.get(element)
        if name is None:
            raise ConfigurationError(
                f"No pseudopotential for {element} in family '{family}' (folder {folder})."
            )
        if not (folder / name).is_file():
            raise ConfigurationError(
                f"Pseudopotential for {element} ({name}) is missing from folder {folder}."
            )
        out[element] = name
    return out


_WFC = re.compile(r"Suggested minimum cutoff for wavefunctions:\s*([\d.]+)\s*Ry", re.I)
_RHO = re.compile(r"Suggested minimum cutoff for charge density:\s*([\d.]+)\s*Ry", re.I)
_WFC_ATTR = re.compile(r'wfc_cutoff\s*=\s*"\s*([\d.EeDd+-]+)\s*"')
_RHO_ATTR = re.compile(r'rho_cutoff\s*=\s*"\s*([\d.EeDd+-]+)\s*"')
_ZVAL = re.compile(r'z_valence\s*=\s*"\s*([\d.EeDd+-]+)\s*"|([\d.]+)\s+Z valence', re.I)


def _header(path: Path, n_chars: int = 20000) -> str:
    with path.open(errors="replace") as handle:
        return handle.read(n_chars)


def _number(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


def upf_suggested_cutoffs(path: str | Path) -> tuple[float | None, float | None]:
    """(ecutwfc, ecutrho) in Ry suggested by one UPF file; None where it states none."""
    head = _header(Path(path))
    wfc = _WFC.search(head) or _WFC_ATTR.search(head)
    rho = _RHO.search(head) or _RHO_ATTR.search(head)
    wfc_v = _number(wfc.group(1)) if wfc else None
    rho_v = _number(rho.group(1)) if rho else None
    return (wfc_v or None, rho_v or None)


def upf_z_valence(path: str | Path) -> float:
    """Valence charge of one UPF file (electrons per atom)."""
    match = _ZVAL.search(_header(Path(path)))
    if not match:
        raise ConfigurationError(f"Pseudopotential {path} states no valence charge (z_valence).")
    return _number(match.group(1) or match.group(2))


def suggested_cutoffs(pseudos: Mapping[str, str], pseudo_dir: str | Path) -> tuple[float, float]:
    """(ecutwfc, ecutrho) in Ry: the largest suggested value over the elements' UPF files.

    Raises:
        ConfigurationError: when no file suggests a wavefunction cutoff (set ``ecutwfc``).
    """
    wfcs, rhos = [], []
    for name in pseudos.values():
        wfc, rho = upf_suggested_cutoffs(Path(pseudo_dir) / name)
        wfcs += [wfc] if wfc else []
        rhos += [rho] if rho else []
    if not wfcs:
        raise ConfigurationError(
            f"None of {sorted(pseudos.values())} suggests a cutoff; set ecutwfc explicitly."
        )
    ecutwfc = max(wfcs)
    return ecutwfc, max([*rhos, 4.0 * ecutwfc])
