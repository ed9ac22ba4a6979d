"""Precision-first entity resolution for people and company records.

``find_duplicates(records, config)`` and ``link(left, right, config)`` return
:class:`Match` pairs with a score and per-field evidence, so an approval card can
show why two records are believed to be one. See :mod:`agent.matching.engine`.
"""

from agent.matching.engine import Linker, dedupe, find_duplicates, link, link_run
from agent.matching.models import (
    BlockingRule,
    FieldEvidence,
    FieldKind,
    FieldSpec,
    Level,
    Match,
    MatchConfig,
    MatchRule,
    MatchRun,
    Record,
)

__all__ = [
    "BlockingRule",
    "FieldEvidence",
    "FieldKind",
    "FieldSpec",
    "Level",
    "Linker",
    "Match",
    "MatchConfig",
    "MatchRule",
    "MatchRun",
    "Record",
    "dedupe",
    "find_duplicates",
    "link",
    "link_run",
]
