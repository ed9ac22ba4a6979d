"""Registrable domains from URLs, hosts and emails, on tldextract's bundled suffix list only.

tldextract normally fetches the Public Suffix List from publicsuffix.org and caches
it on disk. :class:`DomainParser` builds its extractor with ``suffix_list_urls=()``
(nothing to fetch: tldextract's ``find_first_response`` loops over no URLs and the
lookup falls back to the ``.tld_set_snapshot`` file shipped inside the package) and
``cache_dir=None`` (no disk cache, so no writes to ``~/.cache`` either). See
tldextract's ``TLDExtract.__init__`` docstring and ``suffix_list._get_suffix_lists``.

Parsing the snapshot takes a moment, so build one parser and pass it around rather
than one per value.
"""

from __future__ import annotations

import contextlib
import re

import idna
import tldextract

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_KNOWN_HOSTS = 200_000


class DomainParser:
    """Turns ``"https://www.Example.co.uk/about"`` into ``"example.co.uk"``, offline."""

    def __init__(self) -> None:
        self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        # Company domains repeat across a CRM (every lead at acme.com): parse each host once.
        self._known: dict[str, str | None] = {}

    def registrable_domain(self, raw: str | None) -> str | None:
        """The domain a company registered (``bbc.co.uk`` for ``news.bbc.co.uk``), or ``None``.

        Accepts a URL, a bare host, ``user@host`` or a host with a port or path. The
        answer is lower-case and, for an internationalised name, in Unicode form
        (``xn--mnchen-3ya.de`` and ``MÜNCHEN.de`` both give ``münchen.de``) so that
        the two spellings compare equal. IP addresses, ``localhost`` and hosts with no
        public suffix give ``None``.
        """
        host = host_of(raw)
        if host is None:
            return None
        if host in self._known:
            return self._known[host]
        parts = self._extract(host)
        found = (
            unicode_domain(parts.top_domain_under_public_suffix) if parts.suffix and parts.domain else None
        )
        if len(self._known) >= _KNOWN_HOSTS:
            self._known.clear()  # a crude bound: a new run of lookups refills it
        self._known[host] = found
        return found

    def is_public_suffix_only(self, raw: str) -> bool:
        """True for a bare suffix such as ``co.uk`` (nothing a company could own)."""
        host = host_of(raw)
        if host is None:
            return False
        parts = self._extract(host)
        return bool(parts.suffix) and not parts.domain


def host_of(raw: str | None) -> str | None:
    """The host part of a URL, host or email address, lower-cased; ``None`` when there is none."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    text = _SCHEME.sub("", text)
    text = text.rpartition("@")[2]  # user@host and user:pass@host
    for separator in "/?#":
        text = text.partition(separator)[0]
    host = text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    host = host.strip().rstrip(".").casefold()
    if host.startswith("www."):
        host = host[4:]
    return host or None


def unicode_domain(domain: str) -> str:
    """The Unicode form of a domain, label by label; a label that is not valid punycode is kept."""
    labels: list[str] = []
    for label in domain.casefold().split("."):
        if label.startswith("xn--"):
            with contextlib.suppress(idna.IDNAError):
                label = idna.decode(label)
        labels.append(label)
    return ".".join(labels)
