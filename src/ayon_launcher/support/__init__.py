"""Small building blocks every part uses: errors, logging, paths, locks, atomic files, settings."""
