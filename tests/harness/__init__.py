"""Test harnesses: both servers behind one interface, a studio bundle, the official launcher."""
