"""Settings from environment variables and an optional TOML file."""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.followup import FollowupPolicy, parse_followup
from bot.domain.nudges import NudgePolicy, PolicyError, parse_nudges
from bot.domain.outbox import DEFAULT_HORIZONS, Priority, parse_horizons
from bot.domain.scheduling import Schedule, ScheduleError, parse_schedule
from bot.i18n import SUPPORTED_LOCALES

TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


@dataclass(frozen=True)
class Setting:
    """One documented setting: its environment variable and its TOML key."""

    env: str
    toml: str
    default: str
    meaning: str


# The README's configuration table is generated from this list (tests compare them).
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "MATCHMAKER_CONFIG", "-", "(none)", "Path of an optional TOML file with the keys below"
    ),
    Setting("MATCHMAKER_TOKEN", "token", "(required for `run`)", "Bot token from @BotFather"),
    Setting("MATCHMAKER_DB", "database", "`./matchmaker.db`", "SQLite database file"),
    Setting(
        "MATCHMAKER_API_BASE_URL",
        "api_base_url",
        f"`{TELEGRAM_API_BASE_URL}`",
        "Bot API base URL (a local Bot API server or the sandbox)",
    ),
    Setting(
        "MATCHMAKER_RATE_LIMIT",
        "rate_limit",
        "`on`",
        "`on`/`off`: pace sending to Telegram's limits (off for local servers and benchmarks)",
    ),
    Setting(
        "MATCHMAKER_SEND_PER_SECOND",
        "delivery.per_second",
        "`30`",
        "Messages per second to all chats together, when rate limiting is on",
    ),
    Setting(
        "MATCHMAKER_CHAT_INTERVAL",
        "delivery.chat_interval",
        "`1.0`",
        "Seconds between two messages to the same chat, when rate limiting is on",
    ),
    Setting(
        "MATCHMAKER_RETRY_HORIZONS",
        "delivery.retry_horizons",
        "`reminder=1h,confirmation=6h,notice=6h,broadcast=12h`",
        "How long queued messages are retried while Telegram fails (5xx, timeouts), by kind "
        "(TOML: also a table); a meeting reminder stops at its meeting's start. Kinds left out "
        "keep their default",
    ),
    Setting(
        "MATCHMAKER_EVENT_NAME", "event.name", "`Matchmaking day`", "Event name shown to delegates"
    ),
    Setting(
        "MATCHMAKER_TIMEZONE",
        "event.timezone",
        "`UTC`",
        "Event time zone, IANA name such as `Asia/Shanghai`",
    ),
    Setting(
        "MATCHMAKER_EVENT_DATES",
        "event.dates",
        "(none)",
        "Event days, ISO dates separated by commas or a range `2026-11-24..2026-11-26`",
    ),
    Setting(
        "MATCHMAKER_DEFAULT_LANGUAGE",
        "event.default_language",
        "`en`",
        "Language for users whose Telegram language is not shipped: en, zh, ru, ko, ar",
    ),
    Setting(
        "MATCHMAKER_ORGANIZERS",
        "organizers",
        "(none)",
        "Organizer Telegram user ids, separated by commas (TOML: a list of integers)",
    ),
    Setting(
        "MATCHMAKER_BOT_USERNAME",
        "bot_username",
        "(asked from Telegram)",
        "The bot's @username, for claim links (`import-delegates --links`); when unset, "
        "the CLI asks Telegram (getMe) with the token",
    ),
    Setting("MATCHMAKER_LOG_LEVEL", "log_level", "`INFO`", "DEBUG, INFO, WARNING or ERROR"),
    Setting(
        "MATCHMAKER_WEB_LISTEN",
        "web.listen",
        "`127.0.0.1`",
        "Address of the web server (venue board, Mini App; in webhook mode also the webhook)",
    ),
    Setting(
        "MATCHMAKER_WEB_PORT",
        "web.port",
        "(off)",
        "Port of the web server; unset: no board and no Mini App (webhook mode: the webhook's)",
    ),
    Setting(
        "MATCHMAKER_WEB_URL",
        "web.url",
        "(`http://` listen:port)",
        "Public https base URL of the web server behind the proxy, for the Mini App buttons "
        "and `board-link`",
    ),
    Setting(
        "MATCHMAKER_ENCODER",
        "matching.encoder",
        "`use`",
        "`use`: taxonomy + the bundled multilingual sentence encoder; `off`: taxonomy only; "
        "`hash`: a tiny test encoder",
    ),
    Setting(
        "MATCHMAKER_WEBHOOK_LISTEN",
        "webhook.listen",
        "`127.0.0.1`",
        "Address `run --webhook` listens on; keep it local behind a reverse proxy",
    ),
    Setting(
        "MATCHMAKER_WEBHOOK_PORT",
        "webhook.port",
        "`8080`",
        "Port `run --webhook` listens on (plain HTTP; the proxy terminates TLS)",
    ),
    Setting(
        "MATCHMAKER_WEBHOOK_SECRET",
        "webhook.secret",
        "(random at each start)",
        "Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`; 1-256 of A-Z a-z 0-9 _ -",
    ),
)


@dataclass(frozen=True)
class Settings:
    """Everything the bot needs to know before it starts."""

    token: str
    database: Path = Path("matchmaker.db")
    api_base_url: str = TELEGRAM_API_BASE_URL
    rate_limit: bool = True
    send_per_second: int = 30
    chat_send_interval: float = 1.0
    retry_horizons: Mapping[Priority, dt.timedelta] = field(
        default_factory=lambda: dict(DEFAULT_HORIZONS)
    )
    event_name: str = "Matchmaking day"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    event_dates: tuple[dt.date, ...] = ()
    default_language: str = "en"
    organizers: frozenset[int] = frozenset()
    bot_username: str | None = None
    log_level: str = "INFO"
    encoder: str = "use"  # use, hash or off (bot.encoders)
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_secret: str | None = None
    web_listen: str = "127.0.0.1"
    web_port: int | None = None  # None: no web server (0: any free port, for tests)
    web_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The [schedule] table of the TOML file (README: "Meeting schedule").
    schedule: Schedule = field(default_factory=Schedule)
    # The [nudges] and [followup] tables (README: "Nudges and follow-up").
    nudges: NudgePolicy = field(default_factory=NudgePolicy)
    followup: FollowupPolicy = field(default_factory=FollowupPolicy)

    @property
    def web_base_url(self) -> str:
        """Where people reach the web server: MATCHMAKER_WEB_URL, else its own address."""
        if self.web_url:
            return self.web_url
        port = self.web_port if self.web_port is not None else self.webhook_port
        return f"http://{self.web_listen}:{port}"

    @property
    def api_base_file_url(self) -> str:
        """The file download URL that belongs to the API base URL."""
        base = self.api_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"


def _toml_value(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _parse_bool(setting: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(setting, f"expected on or off, got {raw!r}")


def _parse_number(setting: str, raw: object, *, low: float, high: float) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ConfigError(setting, f"{raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(setting, f"{raw!r} is not between {low:g} and {high:g}")
    return value


def _parse_dates(setting: str, raw: object) -> tuple[dt.date, ...]:
    items: list[str]
    if isinstance(raw, list):
        items = [str(x) for x in raw]
    else:
        text = str(raw).strip()
        if ".." in text:
            start_text, _, end_text = text.partition("..")
            start, end = _parse_date(setting, start_text), _parse_date(setting, end_text)
            if end < start:
                raise ConfigError(setting, f"the range {text!r} ends before it starts")
            days = (end - start).days
            return tuple(start + dt.timedelta(days=i) for i in range(days + 1))
        items = [part for part in text.split(",") if part.strip()]
    return tuple(sorted({_parse_date(setting, item) for item in items}))


def _parse_date(setting: str, raw: object) -> dt.date:
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ConfigError(setting, f"{raw!r} is not a date like 2026-11-24") from None


def _parse_organizers(setting: str, raw: object) -> frozenset[int]:
    items = raw if isinstance(raw, list) else str(raw).replace(";", ",").split(",")
    ids: set[int] = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            ids.add(int(text))
        except ValueError:
            raise ConfigError(setting, f"{text!r} is not a Telegram user id") from None
    return frozenset(ids)


_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

_BOT_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def _parse_bot_username(setting: str, raw: object) -> str:
    text = str(raw).strip().removeprefix("https://").removeprefix("t.me/").lstrip("@")
    if not _BOT_USERNAME.match(text):
        raise ConfigError(setting, f"{raw!r} is not a Telegram username such as event_bot")
    return text


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    config_file: Path | None = None,
    require_token: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read settings: overrides, then environment, then the TOML file, then defaults."""
    env = os.environ if environ is None else environ
    path_text = str(config_file) if config_file else env.get("MATCHMAKER_CONFIG")
    data: dict[str, Any] = {}
    if path_text:
        path = Path(path_text)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("MATCHMAKER_CONFIG", f"file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError("MATCHMAKER_CONFIG", f"{path} is not valid TOML: {exc}") from None

    given = dict(overrides or {})

    def raw(env_name: str, toml_key: str) -> tuple[str, object | None]:
        if env_name in given:
            return env_name, given[env_name]
        if env.get(env_name, "").strip():
            return env_name, env[env_name].strip()
        value = _toml_value(data, toml_key)
        return (f"{toml_key} in {path_text}", value) if value is not None else (env_name, None)

    name, value = raw("MATCHMAKER_TOKEN", "token")
    token = str(value or "").strip()
    if require_token and not token:
        raise ConfigError(
            "MATCHMAKER_TOKEN", "no bot token; get one from @BotFather and set MATCHMAKER_TOKEN"
        )
    if token and (":" not in token or any(c.isspace() for c in token)):
        raise ConfigError(name, "this does not look like a bot token (digits:letters)")

    _, value = raw("MATCHMAKER_DB", "database")
    database = Path(str(value)) if value else Path("matchmaker.db")

    name, value = raw("MATCHMAKER_API_BASE_URL", "api_base_url")
    api_base_url = str(value) if value else TELEGRAM_API_BASE_URL
    if not api_base_url.startswith(("http://", "https://")):
        raise ConfigError(name, f"{api_base_url!r} is not an http(s) URL")

    name, value = raw("MATCHMAKER_RATE_LIMIT", "rate_limit")
    rate_limit = True if value is None else _parse_bool(name, value)

    name, value = raw("MATCHMAKER_SEND_PER_SECOND", "delivery.per_second")
    per_second = 30.0 if value is None else _parse_number(name, value, low=1, high=1000)
    if per_second != int(per_second):
        raise ConfigError(name, f"{value!r} is not a whole number")

    name, value = raw("MATCHMAKER_CHAT_INTERVAL", "delivery.chat_interval")
    chat_interval = 1.0 if value is None else _parse_number(name, value, low=0, high=60)

    name, value = raw("MATCHMAKER_RETRY_HORIZONS", "delivery.retry_horizons")
    if isinstance(value, Mapping):  # TOML may give a table: broadcast = "24h"
        value = ",".join(f"{kind}={duration}" for kind, duration in value.items())
    try:
        retry_horizons = parse_horizons(str(value)) if value else dict(DEFAULT_HORIZONS)
    except ValueError as error:
        raise ConfigError(name, str(error)) from None

    _, value = raw("MATCHMAKER_EVENT_NAME", "event.name")
    event_name = str(value).strip() if value else "Matchmaking day"

    name, value = raw("MATCHMAKER_TIMEZONE", "event.timezone")
    zone_name = str(value).strip() if value else "UTC"
    try:
        timezone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            name, f"{zone_name!r} is not an IANA time zone such as Asia/Shanghai"
        ) from None

    name, value = raw("MATCHMAKER_EVENT_DATES", "event.dates")
    event_dates = _parse_dates(name, value) if value else ()

    name, value = raw("MATCHMAKER_DEFAULT_LANGUAGE", "event.default_language")
    default_language = str(value).strip().lower() if value else "en"
    if default_language not in SUPPORTED_LOCALES:
        raise ConfigError(
            name, f"{default_language!r} is not one of {', '.join(SUPPORTED_LOCALES)}"
        )

    name, value = raw("MATCHMAKER_ORGANIZERS", "organizers")
    organizers = _parse_organizers(name, value) if value else frozenset()

    name, value = raw("MATCHMAKER_BOT_USERNAME", "bot_username")
    bot_username = _parse_bot_username(name, value) if value else None

    name, value = raw("MATCHMAKER_LOG_LEVEL", "log_level")
    log_level = str(value).strip().upper() if value else "INFO"
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(name, f"{log_level!r} is not DEBUG, INFO, WARNING or ERROR")

    name, value = raw("MATCHMAKER_ENCODER", "matching.encoder")
    encoder = str(value).strip().lower() if value else "use"
    if encoder not in {"use", "hash", "off"}:
        raise ConfigError(name, f"{encoder!r} is not use, hash or off")

    _, value = raw("MATCHMAKER_WEBHOOK_LISTEN", "webhook.listen")
    webhook_listen = str(value).strip() if value else "127.0.0.1"

    name, value = raw("MATCHMAKER_WEBHOOK_PORT", "webhook.port")
    webhook_port = 8080.0 if value is None else _parse_number(name, value, low=1, high=65535)
    if webhook_port != int(webhook_port):
        raise ConfigError(name, f"{value!r} is not a whole number")

    name, value = raw("MATCHMAKER_WEBHOOK_SECRET", "webhook.secret")
    webhook_secret = str(value).strip() if value else None
    if webhook_secret is not None and not _WEBHOOK_SECRET.match(webhook_secret):
        # Not echoed: it is a secret.
        raise ConfigError(name, "use 1-256 characters from A-Z, a-z, 0-9, _ and -")

    _, value = raw("MATCHMAKER_WEB_LISTEN", "web.listen")
    web_listen = str(value).strip() if value else "127.0.0.1"

    name, value = raw("MATCHMAKER_WEB_PORT", "web.port")
    web_port = None if value is None else _parse_number(name, value, low=0, high=65535)
    if web_port is not None and web_port != int(web_port):
        raise ConfigError(name, f"{value!r} is not a whole number")

    name, value = raw("MATCHMAKER_WEB_URL", "web.url")
    web_url = str(value).strip().rstrip("/") if value else None
    if web_url is not None and not web_url.startswith(("http://", "https://")):
        raise ConfigError(name, f"{web_url!r} is not an http(s) URL")

    section = data.get("schedule")
    if section is not None and not isinstance(section, Mapping):
        raise ConfigError(f"schedule in {path_text}", "expected a [schedule] table")
    try:
        schedule = parse_schedule(section, zone=timezone, default_days=event_dates)
    except ScheduleError as error:
        raise ConfigError(f"schedule.{error.key} in {path_text}", error.problem) from None
    nudges, followup = _parse_policies(data, path_text)

    return Settings(
        token=token,
        database=database,
        api_base_url=api_base_url,
        rate_limit=rate_limit,
        send_per_second=int(per_second),
        chat_send_interval=chat_interval,
        retry_horizons=retry_horizons,
        event_name=event_name,
        timezone=timezone,
        event_dates=event_dates,
        default_language=default_language,
        organizers=organizers,
        bot_username=bot_username,
        log_level=log_level,
        encoder=encoder,
        webhook_listen=webhook_listen,
        webhook_port=int(webhook_port),
        webhook_secret=webhook_secret,
        web_listen=web_listen,
        web_port=None if web_port is None else int(web_port),
        web_url=web_url,
        extra=data,
        schedule=schedule,
        nudges=nudges,
        followup=followup,
    )


def _parse_policies(
    data: Mapping[str, Any], path_text: str | None
) -> tuple[NudgePolicy, FollowupPolicy]:
    found: dict[str, Any] = {}
    for name, parse in (("nudges", parse_nudges), ("followup", parse_followup)):
        section = data.get(name)
        if section is not None and not isinstance(section, Mapping):
            raise ConfigError(f"{name} in {path_text}", f"expected a [{name}] table")
        try:
            found[name] = parse(section)
        except PolicyError as error:
            raise ConfigError(f"{name}.{error.key} in {path_text}", error.problem) from None
    return found["nudges"], found["followup"]
