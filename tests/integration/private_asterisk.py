"""A private, throw-away Asterisk from the testbed's root, for checking
generated dialplan with the real parser and applications — without touching
the testbed (its process, its files, its ports).

It runs in its own mount namespace (`unshare -m`, private propagation), in
which the root's run, log, lib, spool, cache, sound and configuration folders
are covered by folders of a temporary directory: the testbed's control socket
cannot even be seen from there, its databases and logs are not written, and
nothing mounted here is visible outside. Only the modules asked for are
loaded — no manager, no SIP, no listening port. Commands reach it with
`nsenter` into that namespace; it is stopped by its process id.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import wave
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from pbx.testbed import ASTERISK_BIN, PROJECT_DIR

SYSTEM_NAME = "flowcheck"
_COVERED = {  # folder of the root → folder of the work directory
    "etc/asterisk": "etc",
    "var/lib/asterisk": "lib",
    "var/log/asterisk": "log",
    "var/spool/asterisk": "spool",
    "var/cache/asterisk": "cache",
    "usr/share/asterisk/sounds": "sounds",
    "run": "run",  # its control socket appears in the work directory: no other in sight
}
_SETUP = """
set -eu
R="$1"; W="$2"; shift 2
mountpoint -q "$R/proc" || mount -t proc proc "$R/proc"
while [ $# -gt 0 ]; do mount --bind "$W/$2" "$R/$1"; shift 2; done
exec chroot "$R" {asterisk} -f -n -q
"""


class PrivateAsteriskError(RuntimeError):
    pass


def silence_wav(path: Path, seconds: float) -> None:
    """A prompt file as the project installs them: 8 kHz, mono, 16-bit PCM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))


class PrivateAsterisk:
    """`with PrivateAsterisk(root, work, configs, modules) as pbx: pbx.cli(…)`."""

    def __init__(
        self, root: Path, work: Path, configs: dict[str, str], modules: Iterable[str]
    ) -> None:
        self.root, self.work = root, work
        for folder in _COVERED.values():
            (work / folder).mkdir(parents=True, exist_ok=True)
        (work / "run" / "asterisk").mkdir(exist_ok=True)
        loads = "".join(f"load => {module}\n" for module in modules)
        files = {
            "asterisk.conf": (
                f"[options]\nsystemname = {SYSTEM_NAME}\ndefaultlanguage = zh\nverbose = 3\n"
            ),
            "modules.conf": f"[modules]\nautoload = no\n{loads}",
            "logger.conf": (
                "[general]\n[logfiles]\nmessages => notice,warning,error\nverbose => verbose\n"
            ),
            # What the core reads anyway: present, so that the log holds only news.
            **{
                name: ""
                for name in ("acl.conf", "ccss.conf", "features.conf", "stasis.conf", "udptl.conf")
            },
            "cdr.conf": "[general]\nenable = no\n",
            "cel.conf": "[general]\nenable = no\n",
            "indications.conf": (PROJECT_DIR / "asterisk-config" / "indications.conf").read_text(),
            **configs,
        }
        for name, text in files.items():
            (work / "etc" / name).write_text(text, encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.work / "log" / "messages"

    @property
    def verbose_log(self) -> Path:
        """What the dialplan did, step by step."""
        return self.work / "log" / "verbose"

    def __enter__(self) -> PrivateAsterisk:
        for tool in ("unshare", "nsenter", "chroot", "mount"):
            if shutil.which(tool) is None:
                raise PrivateAsteriskError(f"{tool} is not installed")
        if os.geteuid() != 0:
            raise PrivateAsteriskError("needs root (chroot, mount namespaces)")
        pairs = [part for item in _COVERED.items() for part in item]
        script = _SETUP.replace("{asterisk}", ASTERISK_BIN)
        args = [str(self.root), str(self.work), *pairs]
        console = (self.work / "console.out").open("wb")
        self.process = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *args],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        console.close()
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                console = (self.work / "console.out").read_text(errors="replace")
                raise PrivateAsteriskError(f"Asterisk ended at start-up: {console[-2000:]}")
            # The socket shows in the work directory only once the mounts are in
            # place and our Asterisk made it: no command can reach another one.
            socket_made = (self.work / "run" / "asterisk" / "asterisk.ctl").exists()
            if socket_made and "fully booted" in self._run("core waitfullybooted").lower():
                settings = self._run("core show settings")
                if not re.search(rf"System name:\s+{SYSTEM_NAME}\b", settings):
                    raise PrivateAsteriskError(f"not the private Asterisk: {settings[-500:]}")
                return
            time.sleep(0.2)
        raise PrivateAsteriskError("Asterisk did not boot within 20 s")

    def cli(self, command: str) -> str:
        if self.process is None or self.process.poll() is not None:
            raise PrivateAsteriskError("the private Asterisk is not running")
        return self._run(command)

    def _run(self, command: str) -> str:
        assert self.process is not None
        enter = ["nsenter", "--target", str(self.process.pid), "--mount"]
        control = ["-s", "/run/asterisk/asterisk.ctl"]
        result = subprocess.run(
            [*enter, "chroot", str(self.root), ASTERISK_BIN, *control, "-rx", command],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        return result.stdout

    def stop(self) -> None:
        """Stops the one process this object started, by its id."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
