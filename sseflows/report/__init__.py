"""What users read: funnel and ranked tables of a campaign (``tables``)."""
