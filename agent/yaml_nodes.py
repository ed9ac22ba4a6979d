"""Line numbers for YAML settings files (the policy, the routing rules).

The text is read twice: ``yaml.compose`` gives the node tree (line numbers, and
duplicate keys, which PyYAML would otherwise silently overwrite) and
``yaml.safe_load`` gives the data a pydantic model validates. A validation
error's ``loc`` is walked down the node tree to find its line.
"""

from __future__ import annotations

from typing import Any

import yaml

from agent.errors import PolicyProblem

Loc = tuple[int | str, ...]


def read_yaml(text: str) -> tuple[yaml.Node | None, Any, list[PolicyProblem]]:
    """The node tree, the data, and the problems of reading it (invalid YAML, duplicate keys).

    When the text is not valid YAML the tree and the data are ``None``.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(part for part in (exc.context, exc.problem) if part) or "unreadable"
        return None, None, [PolicyProblem(mark.line + 1 if mark else None, f"not valid YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, None, [PolicyProblem(None, f"not valid YAML: {exc}")]
    return root, data, duplicate_keys(root) if root is not None else []


def duplicate_keys(node: yaml.Node) -> list[PolicyProblem]:
    """A problem for every key set twice in one mapping, anywhere in the tree."""
    problems: list[PolicyProblem] = []
    if isinstance(node, yaml.MappingNode):
        first_line: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in first_line:
                    message = (
                        f"'{key.value}' is set twice (first on line {first_line[key.value]}); remove one"
                    )
                    problems.append(PolicyProblem(line_of(key), message))
                else:
                    first_line[key.value] = line_of(key)
            problems.extend(duplicate_keys(value))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems.extend(duplicate_keys(item))
    return problems


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def line_at(root: yaml.Node | None, loc: Loc) -> int:
    """The line of the deepest node on ``loc``: a mapping entry's key, or a list item.

    Parts that name no node (pydantic's ``[key]`` marker, a shorthand written as a
    scalar) are skipped, so the closest node wins.
    """
    if root is None:
        return 1
    node, line = root, line_of(root)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, line_of(key)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = line_of(node)
    return line
