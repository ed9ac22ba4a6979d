"""The curated reference lists shipped in ``agent/data``: free-mail, disposable and role addresses.

The lists are plain text (one entry a line, ``#`` comments) so a team can read and
review them; :func:`load_reference_lists` reads them through ``importlib.resources``
so they work from an installed wheel too. Nothing is loaded at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

FREE_MAIL_FILE = "free_mail_domains.txt"
DISPOSABLE_FILE = "disposable_email_domains.txt"
ROLE_LOCALS_FILE = "role_email_locals.txt"


@dataclass(frozen=True)
class ReferenceLists:
    """Lower-case domains and local parts; build with :func:`load_reference_lists` or by hand in tests."""

    free_mail_domains: frozenset[str]
    disposable_domains: frozenset[str]
    role_locals: frozenset[str]

    def is_free_mail(self, domain: str) -> bool:
        return _matches_domain(domain, self.free_mail_domains)

    def is_disposable(self, domain: str) -> bool:
        return _matches_domain(domain, self.disposable_domains)

    def is_role_account(self, local_part: str) -> bool:
        """True for ``info``, ``sales+eu``, ``No-Reply``...: a shared inbox, not a person."""
        base = local_part.casefold().partition("+")[0]
        return base in self.role_locals or base.replace("_", "-").replace(".", "-") in self.role_locals


def load_reference_lists() -> ReferenceLists:
    """The lists bundled with revgate."""
    return ReferenceLists(
        free_mail_domains=read_list(FREE_MAIL_FILE),
        disposable_domains=read_list(DISPOSABLE_FILE),
        role_locals=read_list(ROLE_LOCALS_FILE),
    )


def read_list(name: str) -> frozenset[str]:
    """One bundled list file as a set of lower-cased entries."""
    text = files("agent").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return parse_list(text)


def parse_list(text: str) -> frozenset[str]:
    entries = (line.strip().casefold() for line in text.splitlines())
    return frozenset(entry for entry in entries if entry and not entry.startswith("#"))


def _matches_domain(domain: str, listed: frozenset[str]) -> bool:
    # A subdomain of a listed domain counts too: "eu.mailinator.com" is still throwaway.
    labels = domain.strip().rstrip(".").casefold().split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels) - 1))
