"""What an enrichment lookup answers: values that each say where they came from and how sure.

A provider never answers with a bare value. Each :class:`EnrichedValue` carries its
``source`` (``"offline:email-validator"``, ``"crm:accounts"``, ``"csv:companies.csv:12"``,
a paid provider's name...) and a ``confidence`` in ``[0, 1]``, so a check can show the
evidence on an approval card and the policy can treat a guess differently from a fact.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from agent.models import FieldValue

Enrichment = Mapping[str, "EnrichedValue"]
"""Enriched field name -> value; a field the provider knows nothing about is absent."""


class EnrichedValue(BaseModel):
    """One value a provider found, with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: FieldValue
    """The value, already in canonical form (E.164 phone, lower-case domain, ISO code...)."""
    source: str
    """Who said so: ``"offline:<library or list>"``, ``"crm:accounts:<id>"``, ``"csv:<file>:<line>"``..."""
    confidence: float = Field(ge=0.0, le=1.0)
    """How sure the source is: 1.0 for a deterministic check, lower for a guess or an ambiguity."""
    note: str | None = None
    """Why, when the value needs explaining (an ambiguity, a rejected input)."""


def merge_first(answers: list[Enrichment]) -> dict[str, EnrichedValue]:
    """Fields from the earliest answer that has them; later answers only fill what is missing."""
    merged: dict[str, EnrichedValue] = {}
    for answer in answers:
        for name, value in answer.items():
            merged.setdefault(name, value)
    return merged
