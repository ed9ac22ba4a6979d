"""Value mangling: slugs and domains from names, and the typos and bad formats defects are made of."""

from __future__ import annotations

import random
import re
import unicodedata

import phonenumbers

from agent.crm.seed.defects import well_cased
from agent.crm.seed.reference import LEGAL_WORDS, PARTICLES, Country


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii(text))


def domain_of(company: str, country: Country) -> str:
    words = [w for w in re.findall(r"[a-z0-9]+", _ascii(company)) if w not in LEGAL_WORDS | PARTICLES]
    return "-".join(words[:2] or ["company"]) + "." + country.tld


def fix_mc(name: str) -> str:
    """Faker spells Mcdonald; people spell McDonald."""
    if len(name) > 3 and name.startswith("Mc") and name[2].islower():
        return "Mc" + name[2].upper() + name[3:]
    return name


def typo(rng: random.Random, word: str) -> str:
    """One keyboard slip (swap, drop or double a letter), never touching the first letter."""
    positions = [i for i in range(1, len(word) - 1) if word[i].islower() and word[i + 1].islower()]
    if not positions:
        return word + word[-1]
    i = rng.choice(positions)
    slip = rng.choice(["swap", "drop", "double"])
    if slip == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if slip == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def miscase(rng: random.Random, name: str) -> str:
    style = rng.choice(["lower", "upper", "inverted", "padded"])
    if style == "lower" and not well_cased(name.lower()):
        return name.lower()
    if style == "upper":
        return name.upper()
    if style == "inverted":
        return name[:1].lower() + name[1:].upper()
    return rng.choice([f"  {name}  ", f"{name} ", f" {name}"])


def invalid_email(rng: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    forms = [
        f"{local}{domain}",  # missing @
        f"{local.replace('.', '..')}@{domain}" if "." in local else f"{local}@{domain.replace('.', '..', 1)}",
        f"{local}@{domain}.",  # trailing dot
        f"{local}@{domain.partition('.')[0]}",  # no top-level domain
    ]
    return rng.choice(forms)


def messy_email(rng: random.Random, email: str) -> str:
    local, _, domain = email.partition("@")
    forms = [
        f"{local.title()}@{domain}",
        email.upper(),
        f" {email} ",
        f"{email} ",
        f"  {local.title()}@{domain.upper()}",
    ]
    return rng.choice(forms)


def unformatted_phone(rng: random.Random, country: Country, e164: str) -> str:
    """The same number as people type it in ``country``."""
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    area = next(
        p.area
        for p in country.places
        if national.startswith(p.area) and len(national) == len(p.area) + p.digits
    )
    s = national[len(area) :]
    forms: dict[str, list[str]] = {
        "US": [
            f"({area}) {s[:3]}-{s[3:]}",
            f"{area}-{s[:3]}-{s[3:]}",
            f"{area}.{s[:3]}.{s[3:]}",
            f"1 {area} {s[:3]} {s[3:]}",
            f"+1 ({area}) {s[:3]}-{s[3:]} ",
        ],
        "GB": [
            f"0{area} {s[:-4]} {s[-4:]}",
            f"+44 {area} {s[:-4]} {s[-4:]}",
            f"+44 (0){area} {s[:-4]} {s[-4:]}",
        ],
        "DE": [f"+49 {area} {s} ", f"0{area} {s}", f"0{area}/{s}", f"0049 {area} {s}"],
        "FR": [_pairs("0" + national), f"+33 {area} {_pairs(s)}", _pairs("0" + national).replace(" ", ".")],
        "NL": [f"0{area} {s[:3]} {s[3:]}", f"+31 (0){area} {s[:3]} {s[3:]}", f"0{area}-{s}"],
    }
    return rng.choice(forms[country.code])


def _pairs(digits: str) -> str:
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))
