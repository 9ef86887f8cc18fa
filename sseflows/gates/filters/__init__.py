"""The cheap composition and stability filters of the published funnels (Kang et al.):
no transition metals, E_hull = 0 and the oxidation limit vs Li/Li⁺ (``oxidation``)."""
