"""Email checks with no network: syntax by email-validator, then the curated lists.

``check_deliverability=False`` keeps email-validator from resolving the domain's MX
records (the only network call it can make), so the answer depends on the text alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.enrich.reference import ReferenceLists
from agent.normalize import email_syntax


@dataclass(frozen=True)
class EmailCheck:
    """What an address says about itself."""

    email: str | None
    """Stripped and lower-cased (the domain in Unicode form); ``None`` when blank."""
    valid: bool
    problem: str | None
    """Why the address is unusable (bad syntax, throwaway domain), else ``None``."""
    local_part: str | None = None
    domain: str | None = None
    disposable: bool = False
    role_account: bool = False
    """A shared inbox (info@, sales@...): valid, but not a person to sell to."""
    free_mail: bool = False
    """At a consumer provider (gmail.com...): says nothing about the employer."""


def check_email(raw: str | None, lists: ReferenceLists) -> EmailCheck:
    """Syntax, disposable, role and free-mail checks of one address."""
    email = raw.strip().casefold() if raw else ""
    if not email:
        return EmailCheck(email=None, valid=False, problem="it is empty")
    parsed = email_syntax(email)
    if isinstance(parsed, str):
        return EmailCheck(email=email, valid=False, problem=parsed)
    local, domain = parsed[0].casefold(), parsed[1].casefold()
    disposable = lists.is_disposable(domain)
    return EmailCheck(
        email=f"{local}@{domain}",
        valid=not disposable,
        problem=f"{domain} is a disposable (throwaway) email domain" if disposable else None,
        local_part=local,
        domain=domain,
        disposable=disposable,
        role_account=lists.is_role_account(local),
        free_mail=lists.is_free_mail(domain),
    )
