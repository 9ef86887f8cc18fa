"""What users read: funnel and ranked tables of a campaign (``tables``), the console they
are printed on (``console``), and the screening progress bar and summary (``screening``)."""
