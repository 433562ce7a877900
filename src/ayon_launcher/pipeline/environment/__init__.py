"""Environment building: runtime AYON_* variables, env definitions, applications."""
