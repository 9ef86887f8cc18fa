"""Campaigns, the use cases the CLI calls: campaign specs (``spec``), screening with
resume (``screen``), the stage-wise campaign run (``run``), the local runner (``local``),
FireWorks submission (``fireworks``), planning with result keys (``plan``), one barrier
(``neb``), stored results (``results``), feedback of computed numbers into the labelled set
(``feedback``) and the demo (``demo``); and, one module each, the other commands' use cases:
reading the user's inputs (``inputs``), BVSE barriers of a file (``bvse``), the MP snapshot
and verdict (``mp``), label import and listing (``labels``), QE convergence
(``convergence``), a neb.x output's barrier (``neb_output``), MD (``md``) and the ranking
stage's train / predict / evaluate / replay (``rank``)."""
