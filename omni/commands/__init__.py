"""CLI command groups, one Typer app per module; shared output helpers in ``_output``."""
