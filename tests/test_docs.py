"""The README's command synopses match what `--help` offers."""

import re
from pathlib import Path

from typer.testing import CliRunner

from log_gardener.flows.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _synopses() -> dict[str, set[str]]:
    block = README.split("## Command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands: dict[str, set[str]] = {}
    current = None
    for line in block.replace("\\\n", " ").splitlines():
        match = re.match(r"\s*gardener (\w+)", line)
        if match:
            current = match.group(1)
            commands[current] = set(re.findall(r"(--[a-z][a-z-]*)", line.split("#", 1)[0]))
    return commands


def test_every_command_of_the_readme_exists_and_takes_the_options_shown():
    synopses = _synopses()
    assert {"run", "backfill", "cluster", "sample", "demo"} <= set(synopses)
    for command, options in synopses.items():
        result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, command
        offered = set(re.findall(r"(--[a-z][a-z-]*)", result.output))
        assert options <= offered, f"{command}: {options - offered} are in the README but not in --help"


def test_every_command_of_the_cli_is_in_the_readme():
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    listed = set(re.findall(r"│ (\w+)\s{2,}", result.output))
    assert listed and listed <= set(_synopses())
