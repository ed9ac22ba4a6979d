"""The README is checked against the code, so it cannot drift silently."""

from __future__ import annotations

import re
from pathlib import Path

import typer
import typer.core
import yaml

from bot.cli import build_cli
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _block_after(heading: str) -> str:
    section = README.split(f"## {heading}\n", 1)[1]
    return section.split("```", 2)[1]


def _cli_commands() -> set[str]:
    root = typer.main.get_command(build_cli())
    assert isinstance(root, typer.core.TyperGroup)
    names: set[str] = set()
    for name, command in root.commands.items():
        if isinstance(command, typer.core.TyperGroup):
            names.update(f"{name} {sub}" for sub in command.commands)
        else:
            names.add(name)
    return names


def test_readme_keeps_the_two_setup_commands_and_ci_uses_the_test_one() -> None:
    assert "python3.11 dev.py demo" in README
    assert "python3.11 dev.py test" in README
    assert "dev.py test" in (ROOT / ".ci" / "run").read_text()


def test_every_cli_command_is_documented_and_every_documented_one_exists() -> None:
    documented = set()
    for line in _block_after("Commands").strip().splitlines():
        words = [w for w in line.split()[1:] if not w.startswith(("-", "[")) and not w.isupper()]
        documented.add(" ".join(words[:2]) if words[0] != "demo" else "demo")

    assert documented == _cli_commands()


def test_every_setting_is_documented_and_every_documented_one_exists() -> None:
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.MULTILINE))
    variables = {
        str(field.validation_alias.choices[0])  # type: ignore[union-attr]
        for field in Settings.model_fields.values()
    }

    assert documented == variables


def test_every_path_in_the_layout_exists() -> None:
    missing = []
    parent = ""
    for line in _block_after("Layout").strip().splitlines():
        name = line.split()[0]
        if not line.startswith(" "):
            parent = name if name.endswith("/") else ""
            path = ROOT / name
        else:
            path = ROOT / parent / name
        if not path.exists():
            missing.append(str(path.relative_to(ROOT)))

    assert missing == []


def test_the_policy_shown_in_the_readme_is_the_shipped_default() -> None:
    shown = yaml.safe_load(README.split("`policies/default.yaml`:\n\n```yaml\n", 1)[1].split("```", 1)[0])
    shipped = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())

    assert {k: shipped[k] for k in shown} == shown


def test_manifest_is_a_slack_app_manifest() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())

    assert manifest["display_information"]["name"] == "revgate"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert "chat:write" in manifest["oauth_config"]["scopes"]["bot"]
    assert {c["command"] for c in manifest["features"]["slash_commands"]} >= {"/route-lead"}


def test_both_manifests_declare_exactly_the_slash_commands_the_app_handles() -> None:
    source = (ROOT / "bot" / "listeners" / "commands.py").read_text()
    handled = set(re.findall(r'app\.command\("(/[a-z-]+)"\)', source))
    for name in ("manifest.yml", "manifest.socket.yml"):
        manifest = yaml.safe_load((ROOT / name).read_text())
        declared = {c["command"] for c in manifest["features"]["slash_commands"]}
        assert declared == handled, name
    assert (
        yaml.safe_load((ROOT / "manifest.socket.yml").read_text())["settings"]["socket_mode_enabled"] is True
    )
