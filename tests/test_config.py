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


def test_bad_value_names_its_source(capsys):
    """A bad value is a usage error: one line naming the variable, exit code 2."""
    with pytest.raises(SystemExit) as info:
        config.load([], environ={"REALTIME_RATE": "lots"})
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad value for REALTIME_RATE" in err


@pytest.mark.parametrize("env, value, words", [
    ("PORT", "99999", "0 to 65535"),
    ("PORT", "http", "expected a number, got 'http'"),
    ("REALTIME_LOG_LEVEL", "loud", "expected debug, info, warning or error"),
    ("REALTIME_TOKEN_TTL", "-5", "above 0"),
    ("REALTIME_MAX_CONNS", "-1", "0 or more"),
    ("REALTIME_PING_INTERVAL", "0", "above 0"),
    ("FORWARDED_ALLOW_IPS", "10.0.0.0/8,proxy", "'proxy' is not an IP address or network"),
])
def test_unusable_values_are_refused_in_words(env, value, words):
    """Each setting checks its value; the error names the variable and the rule."""
    with pytest.raises(config.SettingError) as info:
        config.from_sources(environ={env: value})
    assert str(info.value).startswith("bad value for %s: " % env)
    assert words in str(info.value)


def test_flag_is_named_when_the_value_came_from_a_flag():
    """A bad flag value names the flag, not the variable."""
    with pytest.raises(SystemExit):
        config.load(["--port", "99999"], environ={})
    with pytest.raises(config.SettingError, match="--log-level"):
        config.from_sources(argparse_namespace(log_level="LOUD"), environ={})


def argparse_namespace(**values):
    import argparse
    return argparse.Namespace(**values)


def test_forwarded_allow_ips_is_gunicorns_setting():
    """--forwarded-allow-ips / FORWARDED_ALLOW_IPS, default 127.0.0.1,::1 (as gunicorn)."""
    setting = next(s for s in config.SETTINGS if s.name == "forwarded_allow_ips")
    assert (setting.flag, setting.env, setting.default) == (
        "--forwarded-allow-ips", "FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    assert config.load([], environ={"FORWARDED_ALLOW_IPS": "10.0.0.0/8, ::1"}
                       ).forwarded_allow_ips == "10.0.0.0/8,::1"
    assert config.load(["--forwarded-allow-ips", "*"], environ={}).forwarded_allow_ips == "*"


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
