"""The `woz` command line: `woz.cli.main` parses and dispatches; a module per noun."""
