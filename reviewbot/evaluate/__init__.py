"""Evaluate: apply the rules to stored changes and judge reviews; store the verdicts."""
