"""A bad configuration, through the real command line: `liandong serve` and
`liandong token list` run as a process with the bad environment end with exit
status 2 and one line on stderr that names the variable — never a traceback,
never the secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.component.serve_kit import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "口令-s3cr3t"


def liandong(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "liandong"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server"]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
    full_env |= {"PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [*command, *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
        check=False,
    )


def refused_with(result: subprocess.CompletedProcess[str], variable: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert len(errors) == 1 and variable in errors[0], result.stderr[-2000:]
    assert SECRET not in result.stderr and SECRET not in result.stdout
    return errors[0]


def not_utf8(tmp: Path) -> str:
    path = tmp / "latin1.conf"
    path.write_bytes("[applicationmap]\nld_key_blind => *1 ; 转接\n".encode("gb18030"))
    return str(path)


def secret_file(tmp: Path, text: str) -> str:
    path = tmp / "secret"
    path.write_text(text, encoding="utf-8")
    return str(path)


def unwritable_dir(tmp: Path) -> str:
    blocker = tmp / "a-file"
    blocker.write_text("not a directory")
    return f"sqlite+aiosqlite:///{blocker}/sub/liandong.db"


def deep_routing(tmp: Path) -> str:
    config = tmp / "case-config"
    config.mkdir()
    for item in (ROOT / "case-config").iterdir():
        target = config / item.name
        if item.is_dir():
            target.symlink_to(item, target_is_directory=True)
        else:
            target.write_bytes(item.read_bytes())
    (config / "routing.yaml").write_text("rules: " + "[" * 5000 + "]" * 5000 + "\n")
    return str(config)


Env = Callable[[Path], dict[str, str]]

# (what is wrong, the environment it is in, the variable the message names)
TOKEN_CASES: list[tuple[str, Env, str]] = [
    ("garbage URL", lambda t: {"LIANDONG_DB_URL": "garbage"}, "LIANDONG_DB_URL"),
    ("mysql", lambda t: {"LIANDONG_DB_URL": f"mysql://u:{SECRET}@h/db"}, "LIANDONG_DB_URL"),
    ("port 99999", lambda t: {"LIANDONG_DB_URL": "postgresql://u@h:99999/d"}, "LIANDONG_DB_URL"),
    ("port abc", lambda t: {"LIANDONG_DB_URL": "postgresql://u@h:abc/d"}, "LIANDONG_DB_URL"),
    ("no directory", lambda t: {"LIANDONG_DB_URL": unwritable_dir(t)}, "LIANDONG_DB_URL"),
    (
        "nobody listens",
        lambda t: {"LIANDONG_DB_URL": f"postgresql://u:{SECRET}@127.0.0.1:{free_port()}/d"},
        "LIANDONG_DB_URL",
    ),
    (
        "secret file",
        lambda t: {"LIANDONG_AMI_SECRET_FILE": not_utf8(t)},
        "LIANDONG_AMI_SECRET_FILE",
    ),
    ("secret CR LF", lambda t: {"LIANDONG_AMI_SECRET": f"{SECRET}\r\nAction: Logoff"}, "SECRET"),
    (
        "secret file CR LF",
        lambda t: {"LIANDONG_AMI_SECRET_FILE": secret_file(t, f"{SECRET}\r\nAction: x\n")},
        "LIANDONG_AMI_SECRET_FILE",
    ),
    ("nan", lambda t: {"LIANDONG_AUDIT_INTERVAL": "nan"}, "LIANDONG_AUDIT_INTERVAL"),
    ("inf", lambda t: {"LIANDONG_LADDER_INTERVAL": "inf"}, "LIANDONG_LADDER_INTERVAL"),
    ("1e-9", lambda t: {"LIANDONG_AUDIT_INTERVAL": "1e-9"}, "LIANDONG_AUDIT_INTERVAL"),
    ("bad host", lambda t: {"LIANDONG_HTTP_HOST": "http://x y/"}, "LIANDONG_HTTP_HOST"),
    ("queue_log a directory", lambda t: {"LIANDONG_QUEUE_LOG": str(t)}, "LIANDONG_QUEUE_LOG"),
    ("queue_log on 2 lines", lambda t: {"LIANDONG_QUEUE_LOG": "/a\n/b"}, "LIANDONG_QUEUE_LOG"),
]
# What only fails when the server opens it.
SERVE_CASES: list[tuple[str, Env, str]] = [
    ("features.conf", lambda t: {"LIANDONG_FEATURES_CONF": not_utf8(t)}, "LIANDONG_FEATURES_CONF"),
    (
        "unknown host",
        lambda t: {"LIANDONG_HTTP_HOST": "no-such-host.invalid"},
        "LIANDONG_HTTP_HOST",
    ),
    ("not our address", lambda t: {"LIANDONG_HTTP_HOST": "192.0.2.1"}, "LIANDONG_HTTP_HOST"),
    (
        "deep routing.yaml",
        lambda t: {"LIANDONG_CASE_CONFIG": deep_routing(t)},
        "LIANDONG_CASE_CONFIG",
    ),
    ("no directory", lambda t: {"LIANDONG_DB_URL": unwritable_dir(t)}, "LIANDONG_DB_URL"),
]


@pytest.mark.parametrize(("what", "env", "variable"), TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
def test_token_list_with_a_bad_setting_names_it_in_one_line(
    tmp_path: Path, what: str, env: Env, variable: str
) -> None:
    refused_with(liandong("token", "list", env=env(tmp_path), cwd=tmp_path), variable)


@pytest.mark.parametrize(("what", "env", "variable"), SERVE_CASES, ids=[c[0] for c in SERVE_CASES])
def test_serve_with_a_bad_setting_names_it_in_one_line(
    tmp_path: Path, what: str, env: Env, variable: str
) -> None:
    base = {
        "LIANDONG_DB_URL": f"sqlite+aiosqlite:///{tmp_path}/liandong.db",
        "LIANDONG_HTTP_PORT": str(free_port()),
        "LIANDONG_AMI_SECRET": SECRET,
        "LIANDONG_AMI_PORT": str(free_port()),  # never reached: the server stops first
    }
    refused_with(liandong("serve", env=base | env(tmp_path), cwd=tmp_path), variable)


def test_serve_on_a_port_already_taken_names_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            "LIANDONG_DB_URL": f"sqlite+aiosqlite:///{tmp_path}/liandong.db",
            "LIANDONG_HTTP_PORT": str(taken.getsockname()[1]),
            "LIANDONG_AMI_SECRET": SECRET,
        }
        line = refused_with(liandong("serve", env=env, cwd=tmp_path), "LIANDONG_HTTP_PORT")
    assert "in use" in line


def test_a_good_setting_still_works(tmp_path: Path) -> None:
    env = {
        "LIANDONG_DB_URL": f"sqlite:///{tmp_path}/sub/liandong.db",
        "LIANDONG_AUDIT_INTERVAL": "0",
    }
    result = liandong("token", "list", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
