"""``python -m pantau.cli``: the same command line as ``pantau`` (how the platform starts its services)."""

from pantau.cli import main

main()
