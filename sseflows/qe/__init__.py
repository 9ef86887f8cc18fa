"""Quantum ESPRESSO tier: CI-NEB Li migration barriers with pw.x and neb.x.

Modules: ``units`` (Ry/Bohr ↔ eV/Å), ``pseudos`` (families, folder, UPF cutoffs), ``sets``
(pw.x input generator), ``neb_input`` (neb.x input), ``parsers`` (pw.x / neb.x outputs),
``handlers`` (custodian error handlers), ``jobs`` (custodian runner, skip-if-done),
``convergence`` (cutoff / k-mesh to 1 meV/atom), ``makers`` (QeRelaxMaker, QeNebMaker),
``flows`` (QeNebFlowMaker: the whole protocol), ``config`` (overrides from YAML). The
document, :class:`~sseflows.core.neb.NebDoc`, is shared with the force-field engine
(:mod:`sseflows.forcefields.neb`) and lives in ``core``.
"""
