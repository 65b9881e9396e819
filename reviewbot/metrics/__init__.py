"""Metrics: pure functions from timeline snapshots to queue scores, standing and report figures."""
