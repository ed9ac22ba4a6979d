"""Offline enrichment behind a provider interface, and the field normalisers hygiene checks use.

Build an :class:`OfflineProvider` once per run (``OfflineProvider.build(accounts,
company_csv)``); put paid providers in front of it with :class:`ChainProvider`.
Every value comes back as an :class:`EnrichedValue` carrying its source and confidence.
:class:`RecordNormaliser` turns a CRM record into certain :class:`FieldFix` values and
:class:`FieldQuestion` values for what it will not force (an ambiguous country).
"""

from agent.enrich.company_table import CompanyCsvError, CompanyFacts, CompanyTable
from agent.enrich.domains import DomainParser
from agent.enrich.geography import Geography, GeoMatch
from agent.enrich.models import EnrichedValue, Enrichment
from agent.enrich.offline import OfflineProvider
from agent.enrich.provider import ChainProvider, EnrichmentProvider
from agent.enrich.record_fields import FieldFix, FieldQuestion, RecordNormalisation, RecordNormaliser
from agent.enrich.reference import ReferenceLists, load_reference_lists

__all__ = [
    "ChainProvider",
    "CompanyCsvError",
    "CompanyFacts",
    "CompanyTable",
    "DomainParser",
    "EnrichedValue",
    "Enrichment",
    "EnrichmentProvider",
    "FieldFix",
    "FieldQuestion",
    "GeoMatch",
    "Geography",
    "OfflineProvider",
    "RecordNormalisation",
    "RecordNormaliser",
    "ReferenceLists",
    "load_reference_lists",
]
