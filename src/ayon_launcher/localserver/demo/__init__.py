"""Demo data of the local server: add-on source folders zipped by the seed."""
