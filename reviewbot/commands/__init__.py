"""CLI commands: one module per group of subcommands, listed in reviewbot.cli."""
