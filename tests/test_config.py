"""Settings: declared once, read from flags, environment and defaults."""

import dataclasses

import pytest

from realtime import config


def test_defaults():
    """Embedded defaults: SQLite file, 127.0.0.1:5000, 20/10 rate."""
    c = config.load([], environ={})
    assert (c.host, c.port, c.store, c.rate_limit) == (
        "127.0.0.1", 5000, "sqlite:///realtime.db", (20, 10.0))
    assert c.unverified


def test_environment_overrides_default():
    """Each setting has its environment variable."""
    c = config.load([], environ={"PORT": "8080", "REALTIME_MAX_TEXT": "10",
                                 "REALTIME_SECRET": "s", "REALTIME_CORS": "http://a, http://b"})
    assert (c.port, c.max_text, c.secret, c.cors) == (8080, 10, "s", ("http://a", "http://b"))


def test_flag_overrides_environment():
    """Flags win over the environment."""
    assert config.load(["--port", "0"], environ={"PORT": "8080"}).port == 0


def test_config_is_frozen():
    """A Config cannot change once built."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.Config().port = 1


def test_secret_is_hidden_in_repr():
    """Secrets never reach logs through repr()."""
    assert "hunter2" not in repr(config.Config(secret="hunter2"))


@pytest.mark.parametrize("rate, parsed", [("20/10", (20, 10.0)), ("0", (0, 0.0)),
                                          ("5/0.5", (5, 0.5))])
def test_parse_rate(rate, parsed):
    """COUNT/SECONDS, or 0 for off."""
    assert config.parse_rate(rate) == parsed


def test_bad_value_names_its_source():
    """A bad value stops start-up with the variable's name."""
    with pytest.raises(SystemExit, match="REALTIME_RATE"):
        config.load([], environ={"REALTIME_RATE": "lots"})


def test_every_setting_has_flag_env_and_help():
    """The declaration table is complete and unique."""
    names = [s.name for s in config.SETTINGS]
    envs = [s.env for s in config.SETTINGS]
    assert len(set(names)) == len(names) and len(set(envs)) == len(envs)
    assert all(s.flag.startswith("--") and s.help for s in config.SETTINGS)


def test_readme_documents_every_setting():
    """README's settings table is the one generated from SETTINGS."""
    import os
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md")).read()
    assert config.markdown_table() in readme
