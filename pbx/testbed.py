"""The local Asterisk testbed: a cached Debian-unstable root running Debian's
Asterisk on loopback with the project's `asterisk-config/`.

`up` is idempotent and returns once the AMI answers; `down` stops only the
process `up` started (by pid) and unmounts only what `up` mounted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ("asterisk", "asterisk-modules", "asterisk-moh-opsound-wav")
ASTERISK_BIN = "/usr/sbin/asterisk"


class TestbedError(RuntimeError):
    """Something the user must fix (a missing tool, no network, a port in use)."""


# Inside the chroot: the notices' generated speech (LIANDONG_NOTICE_AUDIO_PBX_DIR),
# and what Asterisk records on the server's calls (LIANDONG_NOTICE_RECORDINGS).
NOTICE_AUDIO = "/var/lib/asterisk/liandong-notices"
NOTICE_RECORDINGS = "/var/spool/asterisk/liandong-notices"


@dataclass(frozen=True)
class TestbedPaths:
    cache: Path

    @property
    def root(self) -> Path:
        return self.cache / "root"

    @property
    def pidfile(self) -> Path:
        return self.cache / "asterisk.pid"

    @property
    def mounts_file(self) -> Path:
        return self.cache / "mounts.json"

    @property
    def secret_file(self) -> Path:
        return self.cache / "ami_secret"

    @property
    def console_log(self) -> Path:
        return self.cache / "asterisk-console.log"

    @property
    def cel_db(self) -> Path:
        return self.root / "var/log/asterisk/master.db"

    @property
    def notice_audio(self) -> Path:
        """Where the server writes each linkage notice's spoken words; Asterisk
        reads them as NOTICE_AUDIO (its own view of the same folder)."""
        return self.root / NOTICE_AUDIO.lstrip("/")

    @property
    def notice_recordings(self) -> Path:
        """Where the server reads what Asterisk recorded on its calls (a
        unit's reason, a citizen's comment): NOTICE_RECORDINGS from outside."""
        return self.root / NOTICE_RECORDINGS.lstrip("/")

    @property
    def queue_log(self) -> Path:
        """app_queue's log (asterisk-config/logger.conf), read after an outage."""
        return self.root / "var/log/asterisk/queue_log"

    @property
    def stamp(self) -> Path:
        return self.root / ".liandong-packages"


@dataclass(frozen=True)
class TestbedConfig:
    paths: TestbedPaths
    config_dir: Path
    ivr_dir: Path
    mirror: str
    ami_host: str
    ami_port: int
    sip_port: int

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> TestbedConfig:
        env = dict(os.environ if env is None else env)
        cache = Path(env.get("LIANDONG_PBX_CACHE", PROJECT_DIR / ".cache" / "pbx"))
        return cls(
            paths=TestbedPaths(cache.resolve()),
            config_dir=Path(env.get("LIANDONG_ASTERISK_CONFIG", PROJECT_DIR / "asterisk-config")),
            ivr_dir=Path(env.get("LIANDONG_IVR_DIR", PROJECT_DIR / "ivr_flows")),
            mirror=env.get("LIANDONG_DEBIAN_MIRROR", "http://deb.debian.org/debian"),
            ami_host="127.0.0.1",
            ami_port=int(env.get("LIANDONG_AMI_PORT", "5038")),
            sip_port=int(env.get("LIANDONG_PBX_SIP_PORT", "5060")),
        )


# ------------------------------------------------------------------ the root


def build_root(cfg: TestbedConfig) -> None:
    """Debootstrap the root once; later calls reuse it."""
    paths = cfg.paths
    wanted = ",".join(PACKAGES)
    if paths.stamp.exists() and paths.stamp.read_text().strip() == wanted:
        return
    if shutil.which("debootstrap") is None:
        raise TestbedError("debootstrap is not installed (apt-get install debootstrap)")
    staging = paths.cache / "root.partial"
    _unmount_all_under(staging)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log.info("building the Asterisk root in %s (once; about a minute)", paths.root)
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={wanted}",
        "unstable",
        str(staging),
        cfg.mirror,
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-15:] + result.stderr.splitlines()[-15:])
        raise TestbedError(f"debootstrap failed (exit {result.returncode}):\n{tail}")
    (staging / ".liandong-packages").write_text(wanted + "\n")
    _unmount_all_under(paths.root)
    shutil.rmtree(paths.root, ignore_errors=True)
    staging.rename(paths.root)


# ------------------------------------------------------------------ up / down


def ami_secret(cfg: TestbedConfig) -> str:
    """LIANDONG_AMI_SECRET if set, else a random secret kept (0600) in the cache."""
    from_env = os.environ.get("LIANDONG_AMI_SECRET")
    if from_env:
        return from_env
    path = cfg.paths.secret_file
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def install_config(cfg: TestbedConfig, secret: str) -> None:
    """Copy asterisk-config/ into the root fresh, with the secret and port overrides."""
    target = cfg.paths.root / "etc/asterisk"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(cfg.config_dir, target)
    _write_private(target / "manager_secret.conf", f"secret = {secret}\n")
    _replace_line(target / "manager.conf", "port = 5038", f"port = {cfg.ami_port}")
    _replace_line(
        target / "pjsip.conf", "bind = 127.0.0.1:5060", f"bind = 127.0.0.1:{cfg.sip_port}"
    )
    # Without its own hostname in /etc/hosts, Asterisk resolves it over DNS on
    # every call and PJSIP stalls for seconds under load.
    hostname = socket.gethostname()
    (cfg.paths.root / "etc/hosts").write_text(
        f"127.0.0.1 localhost\n127.0.0.1 {hostname} liandong\n::1 localhost\n"
    )
    for sub in ("var/run/asterisk", "var/log/asterisk", "var/spool/asterisk", "var/lib/asterisk"):
        (cfg.paths.root / sub).mkdir(parents=True, exist_ok=True)


def install_sounds(cfg: TestbedConfig) -> None:
    """The county's prompts (ivr_flows/prompts, rendered once and cached in
    .cache/prompts) as Asterisk plays them: liandong/<id> and, for app_queue's
    announcements and numbers, its own sound names, in Mandarin (zh)."""
    # Imported here: only `up` needs the audio tools (espeak-ng, ffmpeg, pydub).
    from ivr_flows.service.prompts import PromptError, install_asterisk_sounds, render_prompts

    zh = cfg.paths.root / "usr/share/asterisk/sounds/zh"
    cache = Path(os.environ.get("LIANDONG_PROMPT_CACHE", PROJECT_DIR / ".cache" / "prompts"))
    try:
        rendered = render_prompts(cfg.ivr_dir / "prompts", cache, zh / "liandong")
        install_asterisk_sounds(rendered, zh)
    except PromptError as exc:
        raise TestbedError(f"the prompts could not be installed: {exc}") from None


def running_pid(cfg: TestbedConfig) -> int | None:
    try:
        pid = int(cfg.paths.pidfile.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    # Guard against pid reuse: the process must be our chrooted Asterisk.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return None
    return pid if any(part.endswith(b"asterisk") for part in cmdline) else None


def ami_answers(cfg: TestbedConfig, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((cfg.ami_host, cfg.ami_port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(64).startswith(b"Asterisk Call Manager/")
    except OSError:
        return False


def up(cfg: TestbedConfig, *, wait: float = 60.0) -> int:
    """Start Asterisk if it isn't running; return its pid once the AMI answers."""
    pid = running_pid(cfg)
    if pid is not None and ami_answers(cfg):
        return pid
    if pid is None and ami_answers(cfg):
        raise TestbedError(
            f"something else already answers AMI on {cfg.ami_host}:{cfg.ami_port}; "
            "stop it or set LIANDONG_AMI_PORT"
        )
    build_root(cfg)
    if pid is not None:  # ours, still booting
        _wait_until_booted(cfg, lambda: running_pid(cfg) == pid, wait)
        return pid
    install_config(cfg, ami_secret(cfg))
    install_sounds(cfg)
    _mount_proc(cfg)
    process = _spawn(cfg)
    try:
        _wait_until_booted(cfg, lambda: process.poll() is None, wait)
    except TestbedError:
        down(cfg)
        raise
    staff_desks(cfg)
    return process.pid


def staff_desks(cfg: TestbedConfig) -> None:
    """Every desk phone of ivr_flows/desks.yaml logged in to its desk's queue
    and ready (not paused): the testbed's operators are at work from `up` on (a
    real desk logs in with its phones' keys or the API)."""
    from ivr_flows.core.desk_rules import load_desk_rules

    for desk, rule in load_desk_rules(cfg.ivr_dir / "desks.yaml").desks.items():
        for phone in rule.phones:
            _cli(
                cfg,
                f"queue add member PJSIP/{phone} to desk-{desk} penalty 0 as {phone} "
                f"state_interface PJSIP/{phone}",
            )
            _cli(cfg, f"queue unpause member PJSIP/{phone} queue desk-{desk}")


def down(cfg: TestbedConfig, *, wait: float = 15.0) -> bool:
    """Stop the Asterisk that `up` started and unmount what `up` mounted."""
    pid = running_pid(cfg)
    stopped = False
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while running_pid(cfg) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if running_pid(cfg) is not None:
            os.kill(pid, signal.SIGKILL)
        stopped = True
    cfg.paths.pidfile.unlink(missing_ok=True)
    for mount in _recorded_mounts(cfg):
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
    cfg.paths.mounts_file.unlink(missing_ok=True)
    return stopped


def status(cfg: TestbedConfig) -> dict[str, object]:
    pid = running_pid(cfg)
    return {
        "root": str(cfg.paths.root),
        "root_built": cfg.paths.stamp.exists(),
        "pid": pid,
        "ami": f"{cfg.ami_host}:{cfg.ami_port}",
        "ami_answers": ami_answers(cfg),
        "sip": f"127.0.0.1:{cfg.sip_port}/udp",
        "cel_db": str(cfg.paths.cel_db),
        "queue_log": str(cfg.paths.queue_log),
        "uptime": _cli(cfg, "core show uptime seconds") if pid else None,
    }


def cli(cfg: TestbedConfig, command: str) -> str:
    """Run an Asterisk CLI command in the testbed (tests and debugging)."""
    return _cli(cfg, command)


# ------------------------------------------------------------------ helpers


def _verbosity() -> list[str]:
    """Quiet unless LIANDONG_PBX_VERBOSE (e.g. "-vvv") asks for Asterisk's
    dialplan trace in the console log, to see what a call went through."""
    return os.environ.get("LIANDONG_PBX_VERBOSE", "-q").split()


def _spawn(cfg: TestbedConfig) -> subprocess.Popen[bytes]:
    cfg.paths.cache.mkdir(parents=True, exist_ok=True)
    console = cfg.paths.console_log.open("ab")
    process = subprocess.Popen(
        ["chroot", str(cfg.paths.root), ASTERISK_BIN, "-f", "-n", *_verbosity()],
        stdin=subprocess.DEVNULL,
        stdout=console,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # our Ctrl-C or exit must not take Asterisk down mid-call
    )
    console.close()
    cfg.paths.pidfile.write_text(f"{process.pid}\n")
    return process


def _wait_until_booted(cfg: TestbedConfig, alive: Callable[[], bool], wait: float) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not alive():
            raise TestbedError(f"Asterisk exited during start-up; see {cfg.paths.console_log}")
        if ami_answers(cfg) and "fully booted" in _cli(cfg, "core waitfullybooted").lower():
            return
        time.sleep(0.2)
    raise TestbedError(
        f"Asterisk did not answer AMI within {wait:.0f}s; see {cfg.paths.console_log}"
    )


def _cli(cfg: TestbedConfig, command: str) -> str:
    result = subprocess.run(
        ["chroot", str(cfg.paths.root), ASTERISK_BIN, "-rx", command],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return result.stdout.strip()


def _mount_proc(cfg: TestbedConfig) -> None:
    proc = cfg.paths.root / "proc"
    if os.path.ismount(proc):
        return
    subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
    mounts = _recorded_mounts(cfg)
    mounts.append(str(proc))
    cfg.paths.mounts_file.write_text(json.dumps(mounts))


def _recorded_mounts(cfg: TestbedConfig) -> list[str]:
    try:
        return list(json.loads(cfg.paths.mounts_file.read_text()))
    except (FileNotFoundError, ValueError):
        return []


def _unmount_all_under(path: Path) -> None:
    """Before deleting a root, make sure nothing of the host is mounted inside it."""
    proc = path / "proc"
    with contextlib.suppress(OSError):
        if os.path.ismount(proc):
            subprocess.run(["umount", "-l", str(proc)], check=False)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _replace_line(path: Path, old: str, new: str) -> None:
    if old == new:
        return
    text = path.read_text()
    if old not in text:
        raise TestbedError(f"{path.name}: expected a line '{old}' to override")
    path.write_text(text.replace(old, new))
