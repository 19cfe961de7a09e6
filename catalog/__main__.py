"""`python -m catalog` is the `baton` command."""

from catalog.cli import main

main()
