"""Reading ``routing.yaml`` (and the territory CSVs it names), every problem with its line.

Errors (an unknown key, a rule sending to an undefined pool, no catch-all last rule, a
broken CSV row) stop the load with :class:`~agent.errors.RoutingFileError`; warnings
(territories that overlap) are returned with the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from agent.errors import PolicyProblem, RoutingFileError
from agent.routing.config import RoutingConfig
from agent.routing.territories import DIMENSIONS, overlaps, read_territory_csv
from agent.yaml_nodes import line_at, read_yaml


def load_routing(path: str | Path) -> tuple[RoutingConfig, list[PolicyProblem]]:
    """The configuration and its warnings.

    Raises:
        RoutingFileError: the file cannot be read or has at least one error.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RoutingFileError(
            str(path), [PolicyProblem(None, f"cannot read the routing file: {exc}")]
        ) from exc
    config, problems = parse_routing_text(text, base=path.parent)
    if config is None:
        raise RoutingFileError(str(path), problems)
    return config, problems


def parse_routing_text(text: str, *, base: Path) -> tuple[RoutingConfig | None, list[PolicyProblem]]:
    """The configuration (``None`` on any error) and every problem, sorted by line.

    ``base``: the directory ``territory_files`` are read from. A problem with a territory
    read from a CSV is reported at the ``territory_files`` entry naming the file, with the
    file and row in the message.
    """
    root, data, problems = read_yaml(text)
    if root is None and problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [
            *problems,
            PolicyProblem(1, "the routing file must be a mapping (rules: [...], pools: ...)"),
        ]
    data = dict(data)
    files = data.pop("territory_files", []) or []
    if not isinstance(files, list):
        files = [files]
    inline = data.get("territories")
    if isinstance(inline, list):
        inline = data["territories"] = _territories_as_written(root, inline)
    origins: list[_Origin] = [_Origin(line_at(root, ("territories", i))) for i in range(_count(inline))]
    territories = list(inline) if isinstance(inline, list) else []
    for index, name in enumerate(files):
        line = line_at(root, ("territory_files", index))
        rows, csv_problems = _csv_rows(base / str(name), line)
        territories.extend(rows)
        origins.extend(_Origin(line, f"territory file {name}, row {row}") for row in range(1, len(rows) + 1))
        problems.extend(csv_problems)
    if files and (inline is None or isinstance(inline, list)):
        data["territories"] = territories
    config = None
    try:
        config = RoutingConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        for error in errors:
            if _follows_from_another(error, errors):
                continue
            problems.append(_problem(root, error, origins))
    if config is not None:
        for overlap in overlaps(config.territories):
            index = next(i for i, t in enumerate(config.territories) if t is overlap.second)
            origin = origins[index]
            message = f"{origin.where}: {overlap}" if origin.where else str(overlap)
            problems.append(PolicyProblem(origin.line, message, "warning"))
    problems.sort(key=lambda p: p.line or 0)
    if any(p.severity == "error" for p in problems):
        return None, problems
    return config, problems


@dataclass(frozen=True)
class _Origin:
    """Where a territory was written: its line, and for a CSV row the file and row."""

    line: int | None
    where: str | None = None


def _count(inline: object) -> int:
    return len(inline) if isinstance(inline, list) else 0


def _problem(root: yaml.Node | None, error: Any, origins: list[_Origin]) -> PolicyProblem:
    loc = error["loc"]
    if len(loc) >= 2 and loc[0] == "territories" and isinstance(loc[1], int) and loc[1] < len(origins):
        origin = origins[loc[1]]
        if origin.where is not None:
            # A CSV row: no YAML node holds it, so name the file and the row instead.
            inner = {**error, "loc": loc[2:]}
            return PolicyProblem(origin.line, f"{origin.where}: {_describe(inner)}")
    return PolicyProblem(line_at(root, loc), _describe(error))


def _follows_from_another(error: Any, errors: list[Any]) -> bool:
    """A list that is too short only because its own items failed (say so once, at the item)."""
    if error["type"] != "too_short":
        return False
    loc = tuple(error["loc"])
    return any(len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc for other in errors)


_TEXT_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}


def _territories_as_written(root: yaml.Node | None, inline: list[Any]) -> list[Any]:
    """Inline territories with their dimension values as written in the file.

    YAML 1.1 reads a postcode prefix ``0213`` as the octal number 139 and Norway's ``NO``
    as false; a territory value is always text, so the scalar's own text is kept.
    """
    node = _child(root, "territories")
    if not isinstance(node, yaml.SequenceNode):
        return inline
    written = []
    for item, item_node in zip(inline, node.value, strict=False):
        if isinstance(item, dict) and isinstance(item_node, yaml.MappingNode):
            item = dict(item)
            for key, value in item_node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in DIMENSIONS and key.value in item:
                    item[key.value] = _as_written(value, item[key.value])
        written.append(item)
    return written + inline[len(written) :]


def _as_written(node: yaml.Node, value: Any) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag in _TEXT_TAGS:
        return node.value
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list) and len(value) == len(node.value):
        return [_as_written(n, v) for n, v in zip(node.value, value, strict=True)]
    return value


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value if isinstance(value, yaml.Node) else None
    return None


def _csv_rows(path: Path, line: int) -> tuple[list[dict[str, Any]], list[PolicyProblem]]:
    try:
        return read_territory_csv(path), []
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [], [PolicyProblem(line, f"territory file {path.name} cannot be read: {reason}")]
    except (UnicodeDecodeError, ValueError) as exc:
        return [], [PolicyProblem(line, f"territory file {path.name}: {exc}")]


def _describe(error: Any) -> str:
    loc = [str(part) for part in error["loc"] if not str(part).startswith(("function-", "tagged-"))]
    where = ".".join(loc)
    kind = error["type"]
    if kind == "routing_reference":
        return str(error["msg"])  # names the rule or territory itself
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}' in {'.'.join(loc[:-1]) or 'the file'}"
    if kind == "missing":
        return f"{'.'.join(loc[:-1]) or 'the file'} is missing '{loc[-1]}'"
    message = (
        str((error.get("ctx") or {}).get("error", error["msg"])) if kind == "value_error" else error["msg"]
    )
    return f"{where}: {message}" if where else message
