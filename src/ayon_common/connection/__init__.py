"""Connection names ayon-core imports from the launcher (see ``credentials``)."""
