"""Cheap physics gates that stop candidates early: the Materials Project gate (``mp``:
E_hull, band gap) and the BVSE gate (``bvse``: percolation barriers), plus the wall-time
limit they share (``timelimit``)."""
