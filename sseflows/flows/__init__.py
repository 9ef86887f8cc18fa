"""jobflow Flows that chain tiers for one candidate: the screening flow (``screening``:
MP gate → BVSE gate), the expensive tiers' helpers (``tiers``: NEB and MD Makers, the BVSE
seed path) and failed-input documents (``failures``)."""
