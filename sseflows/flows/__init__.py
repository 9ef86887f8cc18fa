"""jobflow Flows that chain tiers for one candidate: the screening flow (``screening``:
MP gate → BVSE gate), the expensive tiers' helpers (``tiers``: their seeds, the BVSE seed
path) and failed-input documents (``failures``)."""
