"""Built-in pipeline commands: tray, contextselection, extractenvironments, publish, addon."""
