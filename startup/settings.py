"""Settings, built once in main() from the environment and passed to create_app.

Secrets (the AMI secret) come from the environment or a file named by it; they
are wrapped so they never print.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from ami_client.settings import AmiSettings, Secret
from database.engine import BadDatabaseUrl, checked_url

_N = TypeVar("_N", int, float)

# liandong's in-call key codes are read from Asterisk's own features.conf.
DEFAULT_FEATURES_CONF = Path(__file__).resolve().parent.parent / "asterisk-config" / "features.conf"
# The county's case rules: routing catalogue, unit roster, time limits, calendars.
DEFAULT_CASE_CONFIG = Path(__file__).resolve().parent.parent / "case-config"
# The way in's data files (desks.yaml, flows/, prompts/): the ivr_flows package's own.
DEFAULT_IVR_DIR = Path(__file__).resolve().parent.parent / "ivr_flows"


DEFAULT_DB_URL = "sqlite+aiosqlite:///var/liandong.db"
# Interval settings: 0 turns the loop off; below a second it would only spin.
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 86400.0
# A host name or an IPv4/IPv6 address to listen on (no spaces, schemes or paths).
_HOST = re.compile(r"[A-Za-z0-9.:_%-]{1,253}")
_PUBLIC_URL = re.compile(r"https?://[A-Za-z0-9.\[\]:_%-]{1,253}(/[^\s]*)?")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    db_url: str
    ami: AmiSettings
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    cel_url: str | None = None
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # Seconds between audits of Asterisk's channel list on a live link (0: off).
    audit_interval: float = 60.0
    # Seconds a transfer target rings before the caller is given back.
    transfer_ring_timeout: int = 20
    features_conf: Path = DEFAULT_FEATURES_CONF
    case_config: Path = DEFAULT_CASE_CONFIG
    ivr_dir: Path = DEFAULT_IVR_DIR
    # Where the menus ask the server (FastAGI; asterisk-config LD_AGI_ADDR).
    agi_port: int = 4573
    # Seconds between runs of the supervisor ladder (reminders, 催办, 通报).
    ladder_interval: float = 60.0
    # Asterisk's queue_log, read after an outage (None: not read).
    queue_log: Path | None = None
    # Linkage notices ([notify]): where the server writes each notice's spoken
    # words (a folder Asterisk reads; None: the notices say the case number
    # only), that folder as Asterisk sees it, and where Asterisk records a
    # unit's spoken reason for declining (Asterisk's path).
    notice_audio_dir: Path | None = None
    notice_audio_pbx_dir: str | None = None
    notice_recordings: str = "/var/spool/asterisk/liandong-notices"
    # That folder as the server reads it, to serve the recordings (None: the
    # same path — the server on Asterisk's machine, no container between).
    notice_recordings_dir: Path | None = None
    # The address people's browsers use, when a proxy stands between (its
    # origin may open pages and the live feed; https makes the sign-in
    # cookie Secure and __Host-). None: the address the server is reached at.
    public_url: str | None = None
    # Hours a person's sign-in holds before they sign in again.
    sign_in_hours: int = 12
    connect_ami: bool = True  # tests of the HTTP layer alone may run without Asterisk

    @property
    def public_origin(self) -> str | None:
        """`scheme://host[:port]` of the public URL."""
        if self.public_url is None:
            return None
        scheme, _, rest = self.public_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            db_url=_db_url(env),
            ami=AmiSettings(
                host=_host(env, "LIANDONG_AMI_HOST"),
                port=_port(env, "LIANDONG_AMI_PORT", 5038),
                username=_one_line(env, "LIANDONG_AMI_USERNAME", "liandong"),
                secret=Secret(_ami_secret(env)),
            ),
            http_host=_host(env, "LIANDONG_HTTP_HOST"),
            http_port=_port(env, "LIANDONG_HTTP_PORT", 8080),
            cel_url=env.get("LIANDONG_CEL_URL") or None,
            audit_interval=_seconds(env, "LIANDONG_AUDIT_INTERVAL", 60.0),
            transfer_ring_timeout=_ring_seconds(env, "LIANDONG_TRANSFER_RING_TIMEOUT", 20),
            features_conf=Path(env.get("LIANDONG_FEATURES_CONF") or DEFAULT_FEATURES_CONF),
            case_config=Path(env.get("LIANDONG_CASE_CONFIG") or DEFAULT_CASE_CONFIG),
            ivr_dir=Path(env.get("LIANDONG_IVR_DIR") or DEFAULT_IVR_DIR),
            agi_port=_port(env, "LIANDONG_AGI_PORT", 4573),
            ladder_interval=_seconds(env, "LIANDONG_LADDER_INTERVAL", 60.0),
            queue_log=_queue_log(env, "LIANDONG_QUEUE_LOG"),
            notice_audio_dir=_folder(env, "LIANDONG_NOTICE_AUDIO_DIR"),
            notice_audio_pbx_dir=_one_line(env, "LIANDONG_NOTICE_AUDIO_PBX_DIR", "") or None,
            notice_recordings=_one_line(
                env, "LIANDONG_NOTICE_RECORDINGS", "/var/spool/asterisk/liandong-notices"
            ),
            notice_recordings_dir=_folder(env, "LIANDONG_NOTICE_RECORDINGS_DIR"),
            allowed_origins=tuple(
                o.strip() for o in env.get("LIANDONG_ALLOWED_ORIGINS", "").split(",") if o.strip()
            ),
            public_url=_public_url(env, "LIANDONG_PUBLIC_URL"),
            sign_in_hours=_hours(env, "LIANDONG_SIGN_IN_HOURS", 12),
        )


def _db_url(env: Mapping[str, str]) -> str:
    raw = env.get("LIANDONG_DB_URL") or DEFAULT_DB_URL
    try:
        checked_url(raw)
    except BadDatabaseUrl as exc:
        raise SettingsError(f"LIANDONG_DB_URL: {exc}") from None
    return raw


def _host(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name) or "127.0.0.1"
    if not _HOST.fullmatch(raw):
        raise SettingsError(f"{name}: {raw!r} is not a host name or IP address")
    return raw


def _one_line(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    if any(c in raw for c in "\r\n\0"):
        raise SettingsError(f"{name}: must be on one line (no CR, LF or NUL)")
    return raw


def _queue_log(env: Mapping[str, str], name: str) -> Path | None:
    """A file that may not exist yet (Asterisk writes it on its first queue
    event), but not a directory: a missing one is only warned about."""
    raw = env.get(name) or ""
    if not raw:
        return None
    path = Path(_one_line(env, name, raw))
    if path.is_dir():
        raise SettingsError(f"{name}: {raw} is a directory, not Asterisk's queue_log file")
    return path


def _folder(env: Mapping[str, str], name: str) -> Path | None:
    """A folder the server writes into (made if missing), not a file."""
    raw = env.get(name) or ""
    if not raw:
        return None
    path = Path(_one_line(env, name, raw))
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}: {raw} is a file, not a folder")
    return path


def _public_url(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name) or ""
    if not raw:
        return None
    if not _PUBLIC_URL.fullmatch(raw):
        raise SettingsError(
            f"{name}: {raw!r} is not an http(s) address (e.g. https://liandong.county.gov.cn)"
        )
    return raw.rstrip("/")


def _hours(env: Mapping[str, str], name: str, default: int) -> int:
    value = _number(env, name, int, "a whole number of hours")
    if value is None:
        return default
    if not 1 <= value <= 72:
        raise SettingsError(f"{name}: must be 1..72 hours, got {value}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _number(env, name, int, "a port number")
    if value is None:
        return default
    if not 0 < value < 65536:
        raise SettingsError(f"{name}: {value} is outside 1..65535")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, float, "a number of seconds")
    if value is None:
        return default
    # nan compares false with everything: it would pass `< 0` and turn the loop off.
    if value != 0 and not (math.isfinite(value) and MIN_INTERVAL_S <= value <= MAX_INTERVAL_S):
        raise SettingsError(
            f"{name}: must be 0 (off) or {MIN_INTERVAL_S:g}..{MAX_INTERVAL_S:g} seconds, "
            f"got {env[name]!r}"
        )
    return value


def _ring_seconds(env: Mapping[str, str], name: str, default: int) -> int:
    value = _number(env, name, int, "a whole number of seconds")
    if value is None:
        return default
    if not 5 <= value <= 120:
        raise SettingsError(f"{name}: must be 5..120 seconds, got {value}")
    return value


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], _N], what: str) -> _N | None:
    """The variable read as `kind`; None when unset or empty."""
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise SettingsError(f"{name}: {raw!r} is not {what}") from None


def _ami_secret(env: Mapping[str, str]) -> str:
    if env.get("LIANDONG_AMI_SECRET"):
        return _secret_line("LIANDONG_AMI_SECRET", env["LIANDONG_AMI_SECRET"])
    path = env.get("LIANDONG_AMI_SECRET_FILE")
    if path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(
                f"LIANDONG_AMI_SECRET_FILE: cannot read {path}: {exc.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise SettingsError(f"LIANDONG_AMI_SECRET_FILE: {path} is not UTF-8 text") from None
        if not secret:
            raise SettingsError(f"LIANDONG_AMI_SECRET_FILE: {path} is empty")
        return _secret_line(f"LIANDONG_AMI_SECRET_FILE ({path})", secret)
    return ""  # checked when the AMI link is started: HTTP-only tools don't need it


def _secret_line(name: str, secret: str) -> str:
    """The secret goes into an AMI Login line: a CR or LF would end it early."""
    if any(c in secret for c in "\r\n\0"):
        raise SettingsError(f"{name}: the secret must be on one line (no CR, LF or NUL)")
    return secret


SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
