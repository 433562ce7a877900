"""Qt user interface (tray, dialogs); the only package that imports Qt."""
