"""pyblish glue for ``ayon publish``."""
