"""Version of the demo_tools client (rewritten by the seed for other versions)."""

__version__ = "1.0.0"
