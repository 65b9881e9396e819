"""Config validation: every problem names its key path; secrets come from the environment."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.config import ConfigError, Secrets, load_config, secret_value, validate_config
from reviewbot.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def _base() -> dict:
    return {
        "gerrit": {"projects": ["openstack/glance"], "core_group": "glance-core"},
        "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20"},
        "priorities": [
            {"id": "a", "title": "A", "rank": 1},
            {"id": "b", "title": "B", "rank": 2},
            {"id": "c", "title": "C", "rank": 3},
        ],
    }


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["priorities"][2].update(rank=0), "priorities[2].rank: must be >= 1"),
        (lambda d: d["priorities"][1].update(message="(unclosed"),
         "priorities[1].message: invalid regular expression"),
        (lambda d: d["priorities"][0].update(files=["glance/[abc"]),
         "priorities[0].files: glob 'glance/[abc' has an unclosed '['"),
        (lambda d: d["gerrit"].update(projects=[]), "gerrit.projects:"),
        (lambda d: d["gerrit"].update(url="review.opendev.org"),
         "gerrit.url: must start with http:// or https://"),
        (lambda d: d.update(gate={"min_noncore_plus1": 0}), "gate.min_noncore_plus1: must be >= 1"),
        (lambda d: d["gate"].update(exempt={"message": "*"}) if "gate" in d
         else d.update(gate={"exempt": {"message": "*"}}), "gate.exempt.message: invalid"),
        (lambda d: d["priorities"][1].update(id="a"), "priority id 'a' is used twice"),
        (lambda d: d["cycle"].update(end="2016-01-01"), "end must not be before start"),
        (lambda d: d.update(wrtieback={}), "wrtieback: is not a known key"),
        (lambda d: d.pop("cycle"), "cycle: is required"),
        (lambda d: d.update(writeback={"gated_hashtag": "a,b"}),
         "writeback.gated_hashtag: hashtags may not be empty or contain commas"),
        (lambda d: d["priorities"][0].update(blueprints=["bp/image-import-refactor"]),
         "priorities[0].blueprints: blueprint 'bp/image-import-refactor' must be a bare"),
        (lambda d: d["priorities"][1].update(hashtags=["Review-Priority"]),
         "priorities[1].hashtags: 'Review-Priority' is a hashtag the bot writes itself"),
        (lambda d: d["priorities"][2].update(hashtags=["priority-a"]),
         "priorities[2].hashtags: 'priority-a' is a hashtag the bot writes itself"),
        (lambda d: d.update(gate={"exempt": {"hashtags": ["needs-noncore-review"]}}),
         "gate.exempt.hashtags: 'needs-noncore-review' is a hashtag the bot writes itself"),
    ],
)
def test_invalid_config_names_key_path(mutate, expected):
    data = _base()
    mutate(data)
    with pytest.raises(ConfigError) as err:
        validate_config(data)
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_shipped_configs_are_valid():
    ocata = load_config(ROOT / "config" / "glance-ocata.toml")
    assert ocata.gerrit.url == "https://review.opendev.org"
    assert not ocata.writeback.enabled
    assert [p.id for p in ocata.priorities] == [
        "community-goal", "community-images", "image-import-refactor", "rolling-upgrades"]
    sandbox = load_config(ROOT / "config" / "sandbox.toml")
    assert sandbox.gerrit.url.startswith("http://127.0.0.1")


def test_check_config_exits_2_with_key_path(tmp_path):
    bad = (ROOT / "config" / "sandbox.toml").read_text().replace("rank = 3", "rank = 0", 1)
    path = tmp_path / "bad.toml"
    path.write_text(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "--config", str(path), "check-config"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "priorities[2].rank: must be >= 1" in proc.stderr


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[gerrit\nurl=1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


SECRET_VALUES = {
    "REVIEWBOT_GERRIT_PASSWORD": "hunter2-gerrit",
    "REVIEWBOT_WEBHOOK_SECRET": "hunter2-hook",
    "REVIEWBOT_ADMIN_TOKEN": "hunter2-admin",
    "REVIEWBOT_SMTP_PASSWORD": "hunter2-smtp",
    "REVIEWBOT_MATRIX_TOKEN": "hunter2-matrix",
}


def test_secrets_only_from_environment_and_never_printed(monkeypatch, caplog):
    monkeypatch.setenv("REVIEWBOT_GERRIT_USERNAME", "bot")
    for name, value in SECRET_VALUES.items():
        monkeypatch.setenv(name, value)
    secrets = Secrets.from_env()
    assert secrets.gerrit_username == "bot"  # a name, shown as is
    assert secret_value(secrets.gerrit_password) == "hunter2-gerrit"
    assert [secret_value(getattr(secrets, name[len("REVIEWBOT_"):].lower()))
            for name in SECRET_VALUES] == list(SECRET_VALUES.values())
    logger = logging.getLogger("reviewbot.test_secrets")
    with caplog.at_level(logging.INFO):
        logger.info("secrets %s %r", secrets, secrets)
        logger.info("one %s %r", secrets.admin_token, secrets.matrix_token)
    shown = [repr(secrets), str(secrets), f"{secrets}", secrets.model_dump_json(),
             str(secrets.model_dump()), caplog.text]
    assert caplog.text.count("**********") >= 4
    assert "gerrit_username='bot'" in repr(secrets)
    for text in shown:
        assert "hunter2" not in text, text
    with pytest.raises(ConfigError, match="gerrit.password: is not a known key"):
        data = _base()
        data["gerrit"]["password"] = "x"
        validate_config(data)


def test_an_empty_or_unset_secret_is_none(monkeypatch):
    for name in SECRET_VALUES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REVIEWBOT_ADMIN_TOKEN", "")
    secrets = Secrets.from_env()
    assert secrets.admin_token is None and secret_value(secrets.admin_token) is None
    assert secrets.gerrit_password is None


# --- database.url: a store reviewbot can open, where the operator meant it ---------------

def _check_config(tmp_path, url: str, cwd=None) -> subprocess.CompletedProcess:
    text = (ROOT / "config" / "sandbox.toml").read_text().replace(
        'url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{url}"')
    path = tmp_path / "c.toml"
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "reviewbot.cli", "--config", str(path), "check-config"],
        capture_output=True, text=True, cwd=cwd or tmp_path)


@pytest.mark.parametrize("url", ["mysql://root:hunter2@db/reviewbot", "oracle://x",
                                 "reviewbot.db", "sqlite:/relative.db"])
def test_check_config_refuses_a_database_it_cannot_use_naming_the_key(tmp_path, url):
    # Before: `mysql://` passed check-config, then every command crashed on it.
    proc = _check_config(tmp_path, url)
    assert proc.returncode == 2, proc.stdout
    assert "database.url: " in proc.stderr
    assert "hunter2" not in proc.stderr  # only the scheme is named, never the password


def test_accepted_database_urls(tmp_path):
    for url in ("sqlite:///reviewbot.db", "sqlite:///data/new/reviewbot.db",
                f"sqlite:///{tmp_path}/r.db", "sqlite://", "postgresql://u@h:5432/n",
                "postgres://u@h/n", "postgresql+psycopg://u@h/n"):
        data = _base()
        data["database"] = {"url": url}
        assert validate_config(data).database.url == url


def test_a_sqlite_store_under_a_missing_folder_is_refused_not_created(tmp_path):
    # Before: the folder was created wherever the URL pointed, silently.
    missing = tmp_path / "typo" / "deeper"
    proc = _check_config(tmp_path, f"sqlite:///{missing}/reviewbot.db")
    assert proc.returncode == 2
    assert f"database.url: the folder '{missing}' does not exist" in proc.stderr
    assert not missing.parent.exists()
    with pytest.raises(ValueError, match="does not exist"):
        open_store(f"sqlite:///{missing}/reviewbot.db")
    assert not missing.parent.exists()


def test_the_default_data_folder_is_created(tmp_path, monkeypatch):
    proc = _check_config(tmp_path, "sqlite:///data/sandbox/reviewbot.db")
    assert proc.returncode == 0, proc.stderr
    monkeypatch.chdir(tmp_path)
    engine = open_store("sqlite:///data/sandbox/reviewbot.db")
    engine.dispose()
    assert (tmp_path / "data" / "sandbox" / "reviewbot.db").is_file()
