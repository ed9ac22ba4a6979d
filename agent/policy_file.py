"""Reading a policy YAML file, with every problem reported at its line.

The YAML is read with :mod:`agent.yaml_nodes` (line numbers, duplicate keys) and
the data validated by :class:`agent.policy.Policy`; each pydantic error's ``loc``
is walked down the node tree to find its line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from agent.errors import PolicyFileError, PolicyProblem
from agent.policy import (
    DEFER_CONSISTENCY,
    ApproverRule,
    BulkRule,
    ExpiryRule,
    HighValueRule,
    Policy,
    check_consistency,
    did_you_mean,
)
from agent.yaml_nodes import Loc, line_at, line_of, read_yaml

log = logging.getLogger(__name__)


_FILE_KEYS = tuple(key for key in Policy.model_fields if key != "name")
_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "bulk_operations": BulkRule,
    "high_value_changes": HighValueRule,
    "approvers": ApproverRule,
    "expiry": ExpiryRule,
}
_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list, like [add_note, merge] ([] for none)",
    "dict_type": "a mapping of names to settings",
    "model_type": "a mapping of settings",
    "model_attributes_type": "a mapping of settings",
}


def load_policy(path: str | Path) -> Policy:
    """Load a policy file; warnings are logged, errors raise.

    Args:
        path: The YAML file. The policy is named after the file's stem.

    Returns:
        The validated policy.

    Raises:
        PolicyFileError: the file cannot be read or has at least one error;
            ``.problems`` lists every error and warning with its line.
    """
    policy, problems = _check(Path(path))
    if policy is None:
        raise PolicyFileError(str(path), problems)
    for problem in problems:
        log.warning("policy file %s: %s", path, problem)
    return policy


def check_policy_file(path: str | Path) -> list[PolicyProblem]:
    """Every error and warning in a policy file, in line order (empty when it is clean)."""
    return _check(Path(path))[1]


def parse_policy_text(
    text: str, *, name: str = "policy", source: str = "<string>"
) -> tuple[Policy | None, list[PolicyProblem]]:
    """Parse and validate policy YAML, collecting every problem in one pass.

    Args:
        text: The YAML text.
        name: The policy's name (files use their stem).
        source: Where the text came from, for log messages.

    Returns:
        The policy (``None`` when there is any error) and every problem, errors
        and warnings, sorted by line.
    """
    policy, problems = _analyse(text, name)
    problems.sort(key=lambda p: p.line or 0)
    log.debug("policy %s from %s: %d problem(s)", name, source, len(problems))
    if any(p.severity == "error" for p in problems):
        return None, problems
    return policy, problems


def _check(path: Path) -> tuple[Policy | None, list[PolicyProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PolicyProblem(None, f"cannot read the policy file: {exc}")]
    return parse_policy_text(text, name=path.stem, source=str(path))


def _analyse(text: str, name: str) -> tuple[Policy | None, list[PolicyProblem]]:
    root, data, problems = read_yaml(text)
    if problems and root is None:
        return None, problems
    if root is not None and not isinstance(data, dict):
        message = (
            "the policy must be a mapping of settings (allowed_actions: [...], forbidden_actions: [...], ...)"
        )
        return None, [PolicyProblem(line_of(root), message)]
    data = data or {}
    if "name" in data:
        line = line_at(root, ("name",))
        problems.append(
            PolicyProblem(line, "unknown top-level key 'name' (a policy is named after its file)")
        )
        del data["name"]
    broken: set[Loc] = set()
    try:
        Policy.model_validate({**data, "name": name}, context={DEFER_CONSISTENCY: True})
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(PolicyProblem(line_at(root, error["loc"]), _describe(error)))
            broken.add(_part(error["loc"]))
    # Validate again without the broken parts, so the cross-field checks still run on
    # the rest; their findings about broken parts would only repeat what is reported.
    rest = {**_without(data, broken), "name": name}
    try:
        policy = Policy.model_validate(rest, context={DEFER_CONSISTENCY: True})
    except ValidationError:
        return None, problems
    for finding in check_consistency(policy):
        if _part(finding.loc) not in broken and finding.loc[:1] not in broken:
            problems.append(PolicyProblem(line_at(root, finding.loc), finding.message, finding.severity))
    return policy, problems


def _part(loc: Loc) -> Loc:
    """The part of the file a problem spoils: one entry of approvers or expiry, else a top-level key."""
    if len(loc) > 1 and loc[0] in ("approvers", "expiry"):
        return loc[:2]
    return loc[:1]


def _without(data: dict[Any, Any], broken: set[Loc]) -> dict[Any, Any]:
    kept = {key: value for key, value in data.items() if (key,) not in broken}
    for section in ("approvers", "expiry"):
        entries = kept.get(section)
        if isinstance(entries, dict):
            kept[section] = {key: value for key, value in entries.items() if (section, key) not in broken}
    return kept


def _describe(error: ErrorDetails) -> str:
    """One sentence a RevOps admin can act on, for one pydantic error."""
    loc, kind, value = error["loc"], error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    path = ".".join(part for part in loc if isinstance(part, str) and part != "[key]")
    if kind == "unknown_name":
        return f"unknown action '{ctx['name']}' in {loc[0]}{ctx['hint']}"
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return f"{'.'.join(str(part) for part in loc[:-1])} is missing '{loc[-1]}'"
    if kind in _EXPECTED:
        return f"{path} should be {_EXPECTED[kind]}, not {value!r}"
    if kind == "greater_than":
        return f"{path} must be more than {ctx['gt']}, not {value!r}"
    if kind == "string_too_short":
        return f"{path} must not be empty"
    if kind == "literal_error" and loc[-1] == "fallback":
        return f"unknown fallback {value!r} in {path.removesuffix('.fallback')} (use {ctx['expected']})"
    if kind == "literal_error":
        return f"{path} must be {ctx['expected']}, not {value!r}"
    message = str(ctx["error"]) if kind == "value_error" else error["msg"]
    return f"{path}: {message}" if path else message


def _unknown_key(loc: Loc) -> str:
    key = str(loc[-1])
    if len(loc) == 1:
        return f"unknown top-level key '{key}'{did_you_mean(key, _FILE_KEYS)}"
    model = _SECTION_MODELS.get(str(loc[0]))
    known = tuple(model.model_fields) if model else ()
    where = ".".join(str(part) for part in loc[:-1])
    return f"unknown key '{key}' in {where}{did_you_mean(key, known)}"
