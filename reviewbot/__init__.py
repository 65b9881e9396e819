"""reviewbot: run Gerrit review the way the PTL declared it for a release cycle."""

__version__ = "0.1.0"
