"""The one SOAP call revgate makes: the partner API's ``merge``, which simple-salesforce does not wrap.

A merge request names the master record (an sObject: its ``type``, ``Id`` and any field values
to set on it, ``fieldsToNull`` for fields to clear) and at most two ``recordToMergeIds``; the
whole request is one transaction on Salesforce. The answer is a ``MergeResult`` (``success``,
``id``, ``mergedRecordIds``, ``updatedRelatedIds``, ``errors``), or a SOAP fault (HTTP 500)
with an ``exceptionCode`` when the call itself was refused (an invalid session, a malformed id).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PARTNER = "urn:partner.soap.sforce.com"
SOBJECT = "urn:sobject.partner.soap.sforce.com"
FAULT = "urn:fault.partner.soap.sforce.com"

MAX_MERGED_PER_CALL = 2
"""Up to three records per merge request, the master included."""


@dataclass(frozen=True)
class SoapError:
    status_code: str
    message: str


@dataclass(frozen=True)
class MergeResult:
    success: bool
    merged_ids: list[str] = field(default_factory=list)
    errors: list[SoapError] = field(default_factory=list)


@dataclass(frozen=True)
class SoapFault:
    """A refused call: ``exception_code`` is e.g. ``INVALID_SESSION_ID`` (empty when the body had none)."""

    exception_code: str
    message: str


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def merge_envelope(
    session_id: str,
    sobject: str,
    master_id: str,
    merged_ids: Sequence[str],
    values: Mapping[str, Any],
) -> bytes:
    """A partner ``merge`` request.

    ``values`` are Salesforce field values to set on the master (``None`` clears one).
    """
    if not 1 <= len(merged_ids) <= MAX_MERGED_PER_CALL:
        raise ValueError(f"a merge call takes 1 to {MAX_MERGED_PER_CALL} records besides the master")
    envelope = ET.Element(f"{{{SOAP_ENV}}}Envelope")
    header = ET.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    session = ET.SubElement(header, f"{{{PARTNER}}}SessionHeader")
    ET.SubElement(session, f"{{{PARTNER}}}sessionId").text = session_id
    body = ET.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    request = ET.SubElement(ET.SubElement(body, f"{{{PARTNER}}}merge"), f"{{{PARTNER}}}request")
    master = ET.SubElement(request, f"{{{PARTNER}}}masterRecord")
    ET.SubElement(master, f"{{{SOBJECT}}}type").text = sobject
    for name in (n for n, v in values.items() if v is None):
        ET.SubElement(master, f"{{{SOBJECT}}}fieldsToNull").text = name
    ET.SubElement(master, f"{{{SOBJECT}}}Id").text = master_id
    for name, value in values.items():
        if value is not None:
            ET.SubElement(master, f"{{{SOBJECT}}}{name}").text = _text(value)
    for merged_id in merged_ids:
        ET.SubElement(request, f"{{{PARTNER}}}recordToMergeIds").text = merged_id
    encoded: bytes = ET.tostring(envelope, encoding="utf-8", xml_declaration=True)
    return encoded


def parse_fault(content: bytes) -> SoapFault | None:
    """The fault in a SOAP answer, or ``None`` when it holds none (or is not XML at all)."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError:
        return None
    fault = root.find(f".//{{{SOAP_ENV}}}Fault")
    if fault is None:
        return None
    code = fault.findtext(f".//{{{FAULT}}}exceptionCode") or ""
    if not code:
        # faultcode is "sf:INVALID_SESSION_ID" (a QName); its local part is the code.
        code = (fault.findtext("faultcode") or "").rpartition(":")[2]
    return SoapFault(code, fault.findtext("faultstring") or "")


def parse_merge_result(content: bytes) -> MergeResult:
    """The ``MergeResult`` of a successful HTTP answer; ``ValueError`` if the body is not one."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise ValueError(f"not a SOAP answer: {exc}") from exc
    result = root.find(f".//{{{PARTNER}}}mergeResponse/{{{PARTNER}}}result")
    if result is None:
        raise ValueError("the SOAP answer holds no mergeResponse result")
    errors = [
        SoapError(e.findtext(f"{{{PARTNER}}}statusCode") or "", e.findtext(f"{{{PARTNER}}}message") or "")
        for e in result.findall(f"{{{PARTNER}}}errors")
    ]
    merged = [e.text or "" for e in result.findall(f"{{{PARTNER}}}mergedRecordIds")]
    return MergeResult(result.findtext(f"{{{PARTNER}}}success") == "true", merged, errors)
