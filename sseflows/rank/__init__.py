"""The ranking stage: learn from measured (and computed) conductivities, rank candidates.

``table`` (labels → training table), ``descriptors`` (magpie, SOAP, CHGNet features, cached),
``ensemble`` / ``kang`` / ``clustering`` behind one interface (``estimators``), ``novelty``,
``splits``, ``metrics`` and ``evaluate``, ``acquisition`` and ``replay`` for a learning loop,
the saved model (``model``, ``persistence``), the jobflow stage (``maker``, ``schemas``:
``RankDoc``); and the simple cross-candidate orders behind the
:class:`~sseflows.rank.selection.Ranker` interface (``selection``).
"""
