"""Package description of the demo applications add-on (read by the server, never imported)."""

name = "applications"
title = "Applications (demo)"
version = "1.0.0"
client_dir = "ayon_applications_demo"
