"""The `newsdesk` command line."""
