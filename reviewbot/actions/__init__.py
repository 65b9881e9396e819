"""Actions: what the bot does to the outside world (Gerrit hashtags, digests), dry-run first."""
