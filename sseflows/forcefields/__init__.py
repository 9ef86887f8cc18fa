"""ML-potential engines in the way of atomate2's ``forcefields``: the force-field NEB tier
(``neb``: CHGNet by default, another potential or a GPU is a Maker field)."""
