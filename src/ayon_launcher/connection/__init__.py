"""Server connection: URL rules, credentials (keyring with a private-file fallback), login."""
