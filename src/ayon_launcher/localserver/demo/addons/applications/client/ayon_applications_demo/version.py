"""Version of the demo applications client."""

__version__ = "1.0.0"
