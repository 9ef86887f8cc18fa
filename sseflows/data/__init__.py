"""Reading candidates and labels: structure files and candidate CSVs (``readers``,
``files``, ``candidates_csv``), MP documents (``mp_documents``), measured-conductivity
sources and the label store (``label_sources``, ``label_store``), de-duplication
(``dedupe``) and the structures the demo builds (``prototypes``)."""
