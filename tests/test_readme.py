"""The README's commands run as written: every `sh` block, in order, in one shell, from a
folder laid out like a clone (examples/ and .venv/bin/baton), against a fresh data
directory. A line whose comment starts with `exit N` must exit N; every other line 0.
Lines that serve, build or install (make, docker, serve, schema export) are not run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT

SKIPPED = re.compile(r"^(make |NEO4J_PASSWORD=|docker )|\bserve\b|schema export")
EXPECTED_EXIT = re.compile(r"\s#\s*exit (\d+)\b")


def readme_commands() -> list[str]:
    """Command lines of the README's `sh` blocks, continuation lines joined."""
    commands, block = [], False
    pending = ""
    for line in (PROJECT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            block = line.strip() == "```sh"
            continue
        if not block or not line.strip():
            continue
        pending += line.removesuffix("\\") + (" " if line.endswith("\\") else "")
        if not line.endswith("\\"):
            commands.append(pending.strip())
            pending = ""
    return commands


def test_the_readme_has_commands_to_run() -> None:
    assert len([c for c in readme_commands() if not SKIPPED.search(c)]) >= 30


def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(PROJECT / "examples")
    baton = tmp_path / ".venv" / "bin" / "baton"
    baton.parent.mkdir(parents=True)
    baton.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m catalog "$@"\n')
    baton.chmod(0o755)
    commands = [c for c in readme_commands() if not SKIPPED.search(c)]
    script = ["set -u"]
    for number, command in enumerate(commands):
        found = EXPECTED_EXIT.search(command)
        expected = found[1] if found else "0"
        script += [
            command,
            f'code=$?; if [ "$code" != "{expected}" ]; then echo "FAILED {number} $code" >&2;'
            " exit 1; fi",
        ]
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "BATON_HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(PROJECT),
    }
    env.pop("BATON_TOKEN", None)
    ran = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    failed = re.search(r"FAILED (\d+) (\d+)", ran.stderr)
    assert failed is None, (
        f"README command exited {failed[2]}: {commands[int(failed[1])]}\n{ran.stderr[-2000:]}"
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
