"""Gerrit: the HTTP client and Gerrit's wire formats (REST, SSH query JSON, vote messages)."""
