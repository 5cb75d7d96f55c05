"""The server's container image holds every package the project installs.

docker-compose cannot run on the test machine, so the image is never built
here: this reads docker/server.Dockerfile instead. It once lacked `notify/`
(added after the Dockerfile was written), and `pip install .` in the image
would have failed on the missing package.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_installed_package_is_copied_into_the_server_image() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    installed = {name.split(".")[0] for name in project["tool"]["setuptools"]["packages"]}
    dockerfile = (REPO / "docker" / "server.Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, flags=re.MULTILINE))
    assert installed - copied == set(), "packages the image would lack"
    modules = set(project["tool"]["mypy"]["modules"])
    assert all(f" {m}.py" in dockerfile or f"{m}.py " in dockerfile for m in modules)
