"""bot.toml: documented defaults, and errors that name the file, the key and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "samen.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_bot_toml_loads_with_the_documented_defaults() -> None:
    settings = load_settings(ROOT / "bot.toml")
    assert settings.default_locale == "nl"
    assert settings.timezone == "Europe/Brussels"
    assert settings.storage.url == "sqlite:///samen.db"
    assert settings.discord.token_env == "SAMEN_DISCORD_TOKEN"
    assert settings.configured_platforms == ()
    assert {t.key for t in settings.regions} >= {"brussels", "antwerpen", "gent", "liege", "namur"}
    assert settings.is_admin("console", "admin")


def test_settings_are_frozen() -> None:
    settings = load_settings(ROOT / "bot.toml")
    with pytest.raises(ValueError, match="frozen"):
        settings.prefix = "?"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('comunity_name = "x"', "comunity_name", "unknown key"),
        ("[storage]\nurl = 5", "storage.url", "string"),
        ('default_locale = "de"', "default_locale", "'nl', 'fr' or 'en'"),
        ('timezone = "Mars/Olympus"', "timezone", "IANA time zone"),
        ('[discord]\nguild_ids = ["abc"]', "discord.guild_ids.0", "integer"),
        ('[matrix]\ntoken = "secret"', "matrix.token", "unknown key"),
        ('admins = ["telegram:1"]', "admins.0", "pattern"),
        ('[[sectors]]\nkey = "a"\nnl = "A"\nfr = "A"', "sectors.0.en", "required"),
    ],
)
def test_a_wrong_key_or_value_names_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"`{key}`" in message
    assert expected in message


def test_samen_config_points_to_another_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'community_name = "Coop"\ndefault_locale = "fr"')
    monkeypatch.setenv("SAMEN_CONFIG", str(path))
    settings = load_settings()
    assert settings.community_name == "Coop"
    assert settings.source == str(path)


def test_a_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "community_name = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


def test_the_package_ships_the_repository_bot_toml_as_its_defaults() -> None:
    from bot.config import builtin_config_text

    assert builtin_config_text() == (ROOT / "bot.toml").read_text(encoding="utf-8")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "default.toml" in pyproject["tool"]["setuptools"]["package-data"]["samen.bot"]


def test_without_bot_toml_the_built_in_defaults_are_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAMEN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.source == "<built-in defaults>"
    assert settings.default_locale == "nl"
    assert "audiovisual" in {term.key for term in settings.sectors}
    assert {seed.key for seed in settings.circles} >= {"audiovisual", "brussels"}
    assert settings.is_admin("console", "admin")
