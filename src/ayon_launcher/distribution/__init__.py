"""Bundle and add-on distribution: sources, archive validation, safe extraction, local store."""
