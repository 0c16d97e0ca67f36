"""Settings: defaults, environment over TOML, one clear error per bad value."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SETTINGS, TELEGRAM_API_BASE_URL, ConfigError, load_settings

TOKEN = "123456:ABC-def"


def test_defaults() -> None:
    settings = load_settings({"MATCHMAKER_TOKEN": TOKEN})
    assert settings.database == Path("matchmaker.db")
    assert settings.api_base_url == TELEGRAM_API_BASE_URL
    assert settings.rate_limit is True
    assert settings.default_language == "en"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"


def test_environment_overrides_toml(tmp_path: Path) -> None:
    config = tmp_path / "event.toml"
    config.write_text(
        'token = "1:fromfile"\ndatabase = "file.db"\norganizers = [1, 2]\n'
        '[event]\nname = "Xi\'an Fair"\ntimezone = "Asia/Shanghai"\n'
        'dates = ["2026-11-24", "2026-11-25"]\ndefault_language = "zh"\n',
        encoding="utf-8",
    )
    settings = load_settings({"MATCHMAKER_CONFIG": str(config), "MATCHMAKER_DB": "env.db"})
    assert settings.token == "1:fromfile"
    assert settings.database == Path("env.db")
    assert settings.organizers == frozenset({1, 2})
    assert settings.event_name == "Xi'an Fair"
    assert str(settings.timezone) == "Asia/Shanghai"
    assert settings.event_dates == (dt.date(2026, 11, 24), dt.date(2026, 11, 25))
    assert settings.default_language == "zh"


def test_date_range_and_organizer_list_from_environment() -> None:
    settings = load_settings(
        {"MATCHMAKER_TOKEN": TOKEN, "MATCHMAKER_EVENT_DATES": "2026-11-24..2026-11-26",
         "MATCHMAKER_ORGANIZERS": "11, 22", "MATCHMAKER_RATE_LIMIT": "off"}
    )  # fmt: skip
    assert len(settings.event_dates) == 3
    assert settings.organizers == frozenset({11, 22})
    assert settings.rate_limit is False


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({}, "MATCHMAKER_TOKEN"),
        ({"MATCHMAKER_TOKEN": "nocolon"}, "MATCHMAKER_TOKEN"),
        ({"MATCHMAKER_TIMEZONE": "Mars/Base"}, "MATCHMAKER_TIMEZONE"),
        ({"MATCHMAKER_EVENT_DATES": "24.11.2026"}, "MATCHMAKER_EVENT_DATES"),
        ({"MATCHMAKER_EVENT_DATES": "2026-11-26..2026-11-24"}, "MATCHMAKER_EVENT_DATES"),
        ({"MATCHMAKER_DEFAULT_LANGUAGE": "de"}, "MATCHMAKER_DEFAULT_LANGUAGE"),
        ({"MATCHMAKER_ORGANIZERS": "alice"}, "MATCHMAKER_ORGANIZERS"),
        ({"MATCHMAKER_RATE_LIMIT": "sometimes"}, "MATCHMAKER_RATE_LIMIT"),
        ({"MATCHMAKER_API_BASE_URL": "ftp://x"}, "MATCHMAKER_API_BASE_URL"),
        ({"MATCHMAKER_LOG_LEVEL": "LOUD"}, "MATCHMAKER_LOG_LEVEL"),
        ({"MATCHMAKER_ENCODER": "bert"}, "MATCHMAKER_ENCODER"),
        ({"MATCHMAKER_CONFIG": "/nonexistent.toml"}, "MATCHMAKER_CONFIG"),
    ],
)
def test_a_bad_value_names_its_setting(env: dict[str, str], setting: str) -> None:
    if setting != "MATCHMAKER_TOKEN":
        env = {"MATCHMAKER_TOKEN": TOKEN, **env}
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert error.value.setting == setting


def test_bad_toml_value_names_the_file_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('token = "1:x"\n[event]\ntimezone = "Nowhere/City"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings({"MATCHMAKER_CONFIG": str(config)})
    assert "event.timezone" in str(error.value)


def test_cli_prints_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--db", str(tmp_path / "x.db")],
        capture_output=True, text=True, env={"PATH": "", "MATCHMAKER_TIMEZONE": "Mars/Base",
                                              "MATCHMAKER_TOKEN": TOKEN}, timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "matchmaker: configuration error: MATCHMAKER_TIMEZONE: 'Mars/Base' is not an IANA "
        "time zone such as Asia/Shanghai"
    ]


def test_readme_documents_every_setting() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in readme, setting.env


def test_the_encoder_defaults_to_the_bundled_model_and_can_be_turned_off(tmp_path: Path) -> None:
    assert load_settings({"MATCHMAKER_TOKEN": TOKEN}).encoder == "use"
    assert load_settings({"MATCHMAKER_TOKEN": TOKEN, "MATCHMAKER_ENCODER": "OFF"}).encoder == "off"
    config = tmp_path / "event.toml"
    config.write_text('token = "1:x"\n[matching]\nencoder = "hash"\n', encoding="utf-8")
    assert load_settings({"MATCHMAKER_CONFIG": str(config)}).encoder == "hash"


def test_retry_horizons_by_kind_and_one_line_for_a_bad_value() -> None:
    from bot.domain.outbox import DEFAULT_HORIZONS, Priority

    assert load_settings({"MATCHMAKER_TOKEN": TOKEN}).retry_horizons == DEFAULT_HORIZONS
    settings = load_settings(
        {"MATCHMAKER_TOKEN": TOKEN, "MATCHMAKER_RETRY_HORIZONS": "broadcast=24h,notice=90m"}
    )
    assert settings.retry_horizons[Priority.BROADCAST] == dt.timedelta(hours=24)
    assert settings.retry_horizons[Priority.NOTICE] == dt.timedelta(minutes=90)
    assert settings.retry_horizons[Priority.REMINDER] == DEFAULT_HORIZONS[Priority.REMINDER]
    with pytest.raises(ConfigError) as raised:
        load_settings({"MATCHMAKER_TOKEN": TOKEN, "MATCHMAKER_RETRY_HORIZONS": "broadcast=soon"})
    assert raised.value.setting == "MATCHMAKER_RETRY_HORIZONS"
    assert "not a duration" in raised.value.problem


def test_retry_horizons_from_a_toml_table(tmp_path: Path) -> None:
    from bot.domain.outbox import Priority

    config = tmp_path / "event.toml"
    config.write_text('[delivery.retry_horizons]\nbroadcast = "2d"\n', encoding="utf-8")
    settings = load_settings({"MATCHMAKER_TOKEN": TOKEN, "MATCHMAKER_CONFIG": str(config)})
    assert settings.retry_horizons[Priority.BROADCAST] == dt.timedelta(days=2)
