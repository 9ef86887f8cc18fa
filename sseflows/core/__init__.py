"""Domain types and pure science shared by every tier, no I/O: candidates and labels
(``candidate``, ``label``), the two kinds of error (``errors``), tier documents
(``documents``), structure checks and simplifications (``checks``, ``simplify``,
``oxidation``), Li hops, vacancy supercells and NEB images (``hops``, ``supercell``,
``images``), NEB bands with their checks and document (``neb``), the Maker contract
(``maker``), settings overrides (``overrides``) and typed integer triples (``triples``)."""
