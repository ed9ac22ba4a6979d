"""Phone numbers to E.164 with phonenumbers, read in the record's country.

A number written without ``+`` only means something in a country: ``020 7946 0018``
is London in GB and nothing in the US. The record's country (any spelling
:class:`Geography` understands) supplies the region; when the country is missing or
ambiguous such a number is reported, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.enrich.geography import Geography
from agent.normalize import read_phone

SOURCE = "offline:phonenumbers"


@dataclass(frozen=True)
class PhoneCheck:
    """The canonical reading of one phone value."""

    e164: str | None
    """``"+442079460018"``, or ``None`` when the value is not a valid number."""
    region: str | None = None
    """ISO country the number belongs to (from the number itself, not the record)."""
    extension: str | None = None
    """An extension typed after the number (E.164 cannot carry one; keep it elsewhere)."""
    problem: str | None = None
    confidence: float = 0.0
    source: str = SOURCE


def check_phone(raw: str | None, country: str | None, geography: Geography) -> PhoneCheck:
    """``raw`` in E.164, using ``country`` for numbers written without an international prefix."""
    text = raw.strip() if raw else ""
    if not text:
        return PhoneCheck(e164=None, problem="it is empty")
    match = geography.country(country)
    international = text.startswith(("+", "00"))
    if not international and match.code is None:
        why = "the record has no usable country"
        if match.ambiguous:
            why = f"the country '{country}' is ambiguous"
        return PhoneCheck(e164=None, problem=f"{why}, and the number has no international prefix")
    if text.startswith("00"):
        # The ITU international prefix; phonenumbers only reads it when it knows the region.
        text = "+" + text[2:]
    read = read_phone(text, match.code)
    if isinstance(read, str):
        return PhoneCheck(e164=None, problem=read)
    e164, region, extension = read
    # With a + the number names its own country; without one it is only as sure as the country.
    confidence = 1.0 if international else match.confidence
    return PhoneCheck(e164=e164, region=region, extension=extension, confidence=confidence)
