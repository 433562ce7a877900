"""Entry point for ``python -m ayon_launcher``."""

from ayon_launcher.bootstrapper.cli.entry import main

if __name__ == "__main__":
    main()
