"""The public API of ``agent`` is explicit, sorted and importable."""

from __future__ import annotations

import ast
from pathlib import Path

import agent


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert agent.__all__ == sorted(agent.__all__)
    for name in agent.__all__:
        assert getattr(agent, name) is not None


def test_every_error_in_the_tree_is_exported() -> None:
    source = (Path(agent.__file__).parent / "errors.py").read_text()
    classes = {node.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ClassDef)}
    errors = {name for name in classes if name.endswith("Error")}

    assert errors <= set(agent.__all__)


def test_the_domain_never_imports_slack() -> None:
    offenders = []
    for path in Path(agent.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] in {"slack_bolt", "slack_sdk", "bot"} for name in names):
                offenders.append(str(path))

    assert offenders == []
