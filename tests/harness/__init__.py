"""Test harnesses: ynput's real AYON server (ayon-backend) run privately for the test session."""
