"""MD tier: MD at several temperatures → Li MSD → Arrhenius E_a → σ at room temperature.

Modules (imported explicitly; nothing heavy is imported here):

* :mod:`sseflows.md.analysis` — unwrap, drift removal, MSD, D with its error, flags.
* :mod:`sseflows.md.arrhenius` — Arrhenius fit with covariance, Nernst–Einstein, σ range.
* :mod:`sseflows.md.trajectory` — ASE / XDATCAR / vasprun / pymatgen trajectories.
* :mod:`sseflows.md.conductivity` — per-temperature results → :class:`ConductivityDoc`.
* :mod:`sseflows.md.engines` — CHGNet (atomate2 ForceFieldMDMaker) and the VASP AIMD preset.
* :mod:`sseflows.md.makers` — :class:`MDArrheniusMaker` (jobflow Flow).
* :mod:`sseflows.md.schemas` — :class:`ConductivityDoc`, :class:`TemperatureResult`.
"""
