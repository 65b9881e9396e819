"""Configuration: credentials (Secrets), from the process environment only (REVIEWBOT_*)."""

from __future__ import annotations

from pydantic.types import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Secrets(BaseSettings):
    """Credentials, read from the environment only (REVIEWBOT_*), never from the config file.

    pydantic-settings reads them (no .env file, no secrets directory: nothing but the
    process environment); every credential is a SecretStr, so repr, str, logs, JSON
    dumps and error messages show `**********`. Only the code that sends one to its
    server calls `.get_secret_value()`. An empty variable counts as unset.
    """

    model_config = SettingsConfigDict(env_prefix="REVIEWBOT_", env_ignore_empty=True,
                                      extra="ignore", frozen=True)

    gerrit_username: str | None = None  # a name, not a secret
    gerrit_password: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    admin_token: SecretStr | None = None
    smtp_password: SecretStr | None = None
    matrix_token: SecretStr | None = None

    @classmethod
    def from_env(cls) -> Secrets:
        """The credentials set in this process's environment (REVIEWBOT_GERRIT_PASSWORD, ...)."""
        return cls()


def secret_value(secret: SecretStr | None) -> str | None:
    """The plain text of a credential, for the one call that sends it (None when unset)."""
    return secret.get_secret_value() if secret is not None else None
