"""Campaigns, the use cases the CLI calls: campaign specs (``spec``), screening with
resume (``screen``), the stage-wise campaign run (``run``), the local runner (``local``),
FireWorks submission (``fireworks``), planning with result keys (``plan``), one barrier
(``neb``), stored results (``results``), feedback of computed
numbers into the labelled set (``feedback``) and the demo (``demo``)."""
