"""The embedded AYON-compatible local server (FastAPI app, SQLite store, demo seed)."""
