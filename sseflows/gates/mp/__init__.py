"""The Materials Project gate: where E_hull and band gaps come from (``sources``: offline
snapshot, live API), matching a candidate to an MP entry and the gate decision (``match``),
the Maker (``maker``) and its document (``schemas``)."""
