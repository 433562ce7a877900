"""Package description of the demo_tools add-on (read by the local server, never imported)."""

name = "demo_tools"
title = "Demo Tools"
version = "1.0.0"
client_dir = "ayon_demo_tools"
