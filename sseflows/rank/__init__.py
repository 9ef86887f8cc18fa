"""The ranking stage (models trained on measured conductivities, acquisition and
cross-candidate selection); empty until the ranking issue lands."""
