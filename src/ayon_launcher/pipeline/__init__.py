"""What runs after bootstrap: the hand-off to ayon-core, or the built-in commands and add-ons."""
