"""Person-name clean-up for the hard cases, built on ``agent.normalize.normalize_person_name``.

The base function already gets casing, whitespace, Mc/Mac, O'/D' and particles right.
This module adds what it does not do (see :func:`normalize_person_name` for the list):
honorifics are split off (and their casing canonicalised), post-nominals keep their
own casing ("PhD", "MD", not "Phd", "Md"), and an elided French particle typed in
lower case inside a name stays lower case ("Charles d'Artagnan").
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.normalize import normalize_person_name as base_normalize_person_name

HONORIFICS: dict[str, str] = {
    "mr": "Mr",
    "mrs": "Mrs",
    "ms": "Ms",
    "miss": "Miss",
    "mx": "Mx",
    "dr": "Dr",
    "prof": "Prof",
    "professor": "Professor",
    "herr": "Herr",
    "frau": "Frau",
    "mme": "Mme",
    "mlle": "Mlle",
    "sr": "Sr",
    "sra": "Sra",
}
"""Lower-case, dot-free honorific -> canonical casing. "Sir"/"Dame" are left in: they are titles of rank."""
POST_NOMINALS: dict[str, str] = {
    "phd": "PhD",
    "md": "MD",
    "mba": "MBA",
    "cpa": "CPA",
    "esq": "Esq",
    "jr": "Jr",
    "sr": "Sr",
    "dds": "DDS",
}
"""Lower-case, dot-free suffix -> canonical casing, recognised only after the name."""
_ELIDED_PARTICLES = ("d'", "d\u2019", "l'", "l\u2019")


@dataclass(frozen=True)
class CleanName:
    """A person name split into the parts a CRM keeps apart."""

    name: str
    """The name itself, cased and spaced, without honorific or post-nominals."""
    honorific: str | None = None
    """``"Dr."``, ``"Mrs"``... as canonically cased, keeping a dot if one was typed."""
    suffix: str | None = None
    """Post-nominals such as ``"PhD"`` or ``"Jr."``, canonically cased."""
    suffix_after_comma: bool = False
    """The suffix was typed after a comma (``"Jane Doe, PhD"``); :attr:`full` keeps it."""

    @property
    def full(self) -> str:
        """Everything back together: ``"Dr. Jan van der Berg PhD"``."""
        text = " ".join(p for p in (self.honorific, self.name) if p)
        if self.suffix:
            text += (", " if self.suffix_after_comma else " ") + self.suffix
        return text


def clean_person_name(raw: str) -> CleanName:
    """Split honorific and post-nominals off ``raw`` and fix the casing of what is left.

    A value that is only an honorific ("Dr") is kept as the name: there is nothing
    else to keep, and dropping it would blank the field.
    """
    words = raw.replace(",", " , ").split()
    honorific: str | None = None
    if len(words) > 1 and _bare(words[0]) in HONORIFICS:
        honorific = _recase(words.pop(0), HONORIFICS)
    suffixes: list[str] = []
    after_comma = False
    while len(words) > 1 and (words[-1] == "," or _bare(words[-1]) in POST_NOMINALS):
        word = words.pop()
        if word == ",":
            after_comma = True
        else:
            suffixes.insert(0, _recase(word, POST_NOMINALS))
    core = " ".join(words).replace(" , ", ", ")
    name = _keep_lower_elisions(core, base_normalize_person_name(core))
    return CleanName(
        name=name,
        honorific=honorific,
        suffix=(", " if after_comma else " ").join(suffixes) or None,
        suffix_after_comma=after_comma and bool(suffixes),
    )


def normalize_person_name(raw: str) -> str:
    """Drop-in for ``agent.normalize.normalize_person_name``, with these differences.

    - Post-nominals keep their casing: ``"JOHN SMITH PHD"`` -> ``"John Smith PhD"``, and
      the well-formed ``"Jane Doe, PhD"`` / ``"John Smith MD"`` stay as they are (base:
      ``"Phd"``, ``"Md"``).
    - A lower-case ``d'``/``l'`` inside a name is kept: ``"charles d'artagnan"`` ->
      ``"Charles d'Artagnan"`` (base: ``"D'Artagnan"``); an upper-case one still gives
      ``D'`` (``"Maria D'ANGELO"`` -> ``"Maria D'Angelo"``, as before).
    - The honorific is set aside before casing, so a particle right after it counts
      as the start of the name, as Dutch writes it: ``"dr. van der berg"`` ->
      ``"Dr. Van der Berg"`` (base: ``"Dr. van der Berg"``).
    - A stray trailing comma goes: ``"John Smith ,"`` -> ``"John Smith"``.

    The honorific is kept in the result (use :func:`clean_person_name` to split it off).
    """
    return clean_person_name(raw).full


def _bare(word: str) -> str:
    return word.casefold().replace(".", "")


def _recase(word: str, table: dict[str, str]) -> str:
    canonical = table[_bare(word)]
    return canonical + "." if word.endswith(".") else canonical


def _keep_lower_elisions(raw: str, fixed: str) -> str:
    """Put back a lower-case d'/l' the base function capitalised in a word after the first."""
    raw_words, fixed_words = raw.split(), fixed.split()
    if len(raw_words) != len(fixed_words):
        return fixed
    out = fixed_words[:1]
    for before, after in zip(raw_words[1:], fixed_words[1:], strict=True):
        if before[:2] in _ELIDED_PARTICLES and after[:1].isupper():
            after = after[0].lower() + after[1:]
        out.append(after)
    return " ".join(out)
