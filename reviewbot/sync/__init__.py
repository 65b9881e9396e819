"""Sync: bring Gerrit and Launchpad data into the store (REST polling, dump import, webhooks)."""
