"""The bond-valence site-energy (BVSE) gate: structure preparation (``prepare``), the Li⁺
site-energy grid and percolation energies (``grid``), minimum-energy Li paths (``path``),
gate barriers (``barriers``), the Maker (``maker``) and its document (``schemas``)."""
