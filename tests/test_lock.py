"""The lock files pin every dependency pyproject.toml declares, each with hashes.

`make install` installs only from the locks (`--require-hashes`, then the project with
`--no-deps`): a dependency added to pyproject.toml but not locked would be missing on a
fresh machine, and one locked outside its range would install a version we do not allow.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def read_lock(name: str) -> dict[str, list[tuple[Version, list[str]]]]:
    """{package: [(version, its hashes)]}; a universal lock may pin one package per marker."""
    pins: dict[str, list[tuple[Version, list[str]]]] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / name).read_text())
    for entry in entries:
        match = PIN.match(entry)
        if match:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
            key = canonicalize_name(match.group(1))
            pins.setdefault(key, []).append((Version(match.group(2)), hashes))
    return pins


def declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


@pytest.mark.parametrize(
    ("lock", "which"), [("requirements.lock", "runtime"), ("requirements-dev.lock", "all")]
)
def test_the_lock_pins_every_declared_dependency_within_its_range(lock: str, which: str) -> None:
    runtime, dev = declared()
    pins = read_lock(lock)
    for req in runtime + (dev if which == "all" else []):
        versions = pins.get(canonicalize_name(req.name))
        assert versions, f"{req.name} is in pyproject.toml but not in {lock}: run make lock"
        for version, _ in versions:
            assert req.specifier.contains(version, prereleases=True), (
                f"{lock} pins {req.name}=={version}, outside {req.specifier}: run make lock"
            )
        for extra in req.extras:  # tortoise-orm[asyncpg] needs asyncpg itself locked
            if extra == "asyncpg":
                assert "asyncpg" in pins, f"{lock} lacks asyncpg (tortoise-orm[asyncpg])"


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_hashes(lock: str) -> None:
    for name, versions in read_lock(lock).items():
        for version, hashes in versions:
            assert hashes, f"{lock}: {name}=={version} has no --hash"


def test_install_uses_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--no-deps -e ." in makefile
