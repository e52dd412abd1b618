"""``python -m omni`` runs the CLI, same as the ``omni`` console script."""

from omni.entry import main

main()
