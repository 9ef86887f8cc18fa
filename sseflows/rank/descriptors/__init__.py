"""Feature representations of candidates for the ranking models.

* ``base`` — :class:`~sseflows.rank.descriptors.base.FeatureInput`,
  :class:`~sseflows.rank.descriptors.base.FeatureMatrix`, the
  :class:`~sseflows.rank.descriptors.base.Representation` interface, the registry
  (``representation_from_name("magpie+soap")``) and composites.
* ``magpie`` — composition: Magpie element statistics plus Li content (works without a
  structure).
* ``soap`` — SOAP (outer average) on the ``substituted-noli`` structure (Laskowski's
  SOAP-CAN), optionally joined with the sine Coulomb matrix spectrum.
* ``chgnet`` — CHGNet's pretrained crystal feature per atom.
* ``disorder`` — the ordered approximant every structure descriptor uses for partially
  occupied sites.
* ``cache`` — a folder cache keyed by representation settings and input content.

Importing this package registers the representations; DScribe and CHGNet are imported only
when a structure representation featurises.
"""

import sseflows.rank.descriptors.chgnet
import sseflows.rank.descriptors.magpie
import sseflows.rank.descriptors.soap  # noqa: F401  (registration)
