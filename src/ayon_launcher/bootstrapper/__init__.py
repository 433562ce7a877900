"""The bootstrapper: command line, login, bundle choice, distribution, self-update, contract."""
