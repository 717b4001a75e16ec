"""README.md and docs/ as a user reads them: every page is in the README's documentation list,
and every `tendon ...` command shown names a command and options that exist (cheap: no process,
no warehouse; the analyst SQL is run by tests/views/test_analyst_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tendon_pipeline.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GLOBAL_OPTIONS = {"--db", "--config", "--help", "-h", "--version"}


def _documentation_list() -> list[str]:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Documentation", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \[docs/([\w.-]+\.md)\]\(docs/\1\)", section, re.M)


def test_every_docs_page_is_listed_once_in_the_readme():
    listed = _documentation_list()
    duplicates = sorted({page for page in listed if listed.count(page) > 1})
    missing = sorted(p.name for p in (ROOT / "docs").glob("*.md") if p.name not in listed)
    assert not duplicates and not missing, f"README ## Documentation: listed twice {duplicates}, missing {missing}"


def _shown_commands(page: Path) -> list[str]:
    """`tendon ...` in inline code, and shell lines whose command is tendon (after `VAR=value`s)."""
    text = page.read_text(encoding="utf-8")
    shown = [m for span in re.findall(r"`(tendon [^`\n]+)`", text) for m in re.split(r"(?=\btendon )", span)]
    for block in re.findall(r"^```(?:bash|sh|console)\n(.*?)^```", text, re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            for command in re.split(r"&&|;|\|\|", line.split(" #")[0]):
                shown += re.findall(r"^\s*(?:[A-Z_]+=\S+\s+)*(tendon\s.*)$", command)
    return [s.strip() for s in shown if s.startswith("tendon ")]


def _resolve(arguments: list[str]) -> tuple[click.Command, list[str]]:
    """The (sub)command the arguments name, after any global options, and the words naming it."""
    while arguments and arguments[0] in GLOBAL_OPTIONS:
        arguments = arguments[2:] if arguments[0] in ("--db", "--config") else arguments[1:]
    command: click.Command = cli
    used: list[str] = []
    for word in arguments:
        if not (isinstance(command, click.Group) and word in command.commands):
            break
        command, used = command.commands[word], [*used, word]
    return command, used


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_shown_exists_with_its_options(page):
    wrong = []
    for shown in _shown_commands(page):
        arguments = shown.replace("\\|", " ").split()[1:]
        command, used = _resolve(arguments)
        if not used and not set(arguments) <= GLOBAL_OPTIONS:
            wrong.append(f"{shown}: no such command")
            continue
        known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | GLOBAL_OPTIONS
        wrong += [f"{shown}: no option {o}" for o in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", shown)
                  if o not in known]
    assert not wrong, f"{page.name} shows commands the CLI does not have: {wrong}"


def test_the_readme_commands_are_found_and_a_wrong_option_would_be_caught(tmp_path):
    assert len(_shown_commands(ROOT / "README.md")) >= 20
    page = tmp_path / "page.md"
    page.write_text("Run `tendon plan --athlete ana --weeks 3`.\n\n```bash\nTENDON_DB=x tendon sumary\n```\n")
    with pytest.raises(AssertionError, match=r"no option --weeks.*sumary: no such command"):
        test_every_command_shown_exists_with_its_options(page)


def test_the_db_help_names_the_default_the_settings_use(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("TENDON_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    for name in ("TENDON_DB", "TENDON_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert load_settings().db == tmp_path / "warehouse.duckdb"
    shown = " ".join(CliRunner().invoke(cli, ["--help"]).output.split())
    assert "else $TENDON_DB, else $TENDON_HOME/warehouse.duckdb" in shown


def _every_command(group: click.Group = cli, path: str = "tendon") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{path} {name}", command))
        if isinstance(command, click.Group):
            found += _every_command(command, f"{path} {name}")
    return found


def test_as_of_says_the_same_default_in_every_command():
    """The day is the athlete's own (their time zone), in every command that takes --as-of."""
    helps = {path: next(p.help for p in command.params if p.name == "as_of")
             for path, command in _every_command() if any(p.name == "as_of" for p in command.params)}
    assert len(helps) >= 4
    assert all("athlete's today" in text for text in helps.values()), helps


def test_every_option_says_what_it_is_for():
    bare = [f"{path} {option.opts[-1]}" for path, command in _every_command() for option in command.params
            if isinstance(option, click.Option) and not option.help]
    assert not bare, f"options with no help text in `--help`: {bare}"
