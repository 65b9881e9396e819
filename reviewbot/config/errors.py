"""Configuration: the one error a bad config raises, naming the key path of each problem."""

from __future__ import annotations


class ConfigError(Exception):
    """A config problem, already phrased as `key.path: what is wrong`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
