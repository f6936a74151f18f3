"""``python -m suture``: the same command line as the ``suture`` script."""

from suture.entrypoints.cli import main

main()
