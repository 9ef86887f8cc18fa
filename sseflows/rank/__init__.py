"""The ranking stage: cross-candidate selection behind one :class:`~sseflows.rank.selection.
Ranker` interface (``selection``); the model trained on measured conductivities plugs in as
another ranker."""
