"""`python -m woz` is the `woz` command."""

from woz.cli.main import main

raise SystemExit(main())
