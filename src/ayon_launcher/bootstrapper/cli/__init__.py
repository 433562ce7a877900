"""Command-line interface: global flags in main.py, one module per command."""
