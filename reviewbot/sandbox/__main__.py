"""Sandbox Gerrit entry point `python -m reviewbot.sandbox`: the `sandbox` command, nothing else.

Imports only the sandbox (not every CLI command), so child processes start fast.
"""

import argparse
import sys

from reviewbot.commands.sandbox import register

parser = argparse.ArgumentParser(prog="python -m reviewbot.sandbox")
register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(["sandbox", *sys.argv[1:]])
sys.exit(args.func(args))
