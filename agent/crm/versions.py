"""Record versions for CRMs whose own stamp is too coarse to be one.

The port promises a version that changes on every write. HubSpot's
``hs_lastmodifieddate`` has millisecond precision and Salesforce's
``SystemModstamp`` whole seconds, so two writes inside one tick share a stamp.
A remote adapter's version is therefore the stamp *and* a digest of what revgate
reads of the record (its mapped fields and owner): a write that changes nothing
revgate can see and lands in the same tick is the only one it misses, and that
write cannot make a planned change stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from agent.models import FieldValue

SEPARATOR = "~"


def content_version(stamp: str, owner_id: str | None, fields: Mapping[str, FieldValue]) -> str:
    """``<stamp>~<digest>``: the CRM's modification stamp and a digest of the mapped values."""
    canonical = json.dumps([owner_id, sorted(fields.items())], default=str, separators=(",", ":"))
    digest = hashlib.blake2b(canonical.encode(), digest_size=6).hexdigest()
    return f"{stamp}{SEPARATOR}{digest}"


def stamp_of(version: str) -> str:
    """The CRM's own stamp inside a version made by :func:`content_version`."""
    return version.split(SEPARATOR, 1)[0]
