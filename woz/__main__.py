"""`python -m woz` is the `woz` command."""

from woz.cli import main

raise SystemExit(main())
