"""The partner SOAP ``merge`` envelope and the answers read back from it."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from agent.crm.salesforce_soap import PARTNER, SOBJECT, merge_envelope, parse_fault, parse_merge_result

LEAD, FIRST, SECOND = "00Q8c0000000001AAA", "00Q8c0000000002AAA", "00Q8c0000000003AAA"


def test_a_merge_envelope_names_the_master_its_values_the_cleared_fields_and_the_merged_ids() -> None:
    sent = ET.fromstring(
        merge_envelope("sess!1", "Lead", LEAD, [FIRST, SECOND], {"Phone": "+1", "Title": None})
    )

    assert sent.findtext(f".//{{{PARTNER}}}SessionHeader/{{{PARTNER}}}sessionId") == "sess!1"
    request = sent.find(f".//{{{PARTNER}}}merge/{{{PARTNER}}}request")
    assert request is not None
    master = request.find(f"{{{PARTNER}}}masterRecord")
    assert master is not None
    # The partner sObject's order: type, fieldsToNull, Id, then the fields.
    assert [(e.tag.rpartition("}")[2], e.text) for e in master] == [
        ("type", "Lead"),
        ("fieldsToNull", "Title"),
        ("Id", LEAD),
        ("Phone", "+1"),
    ]
    assert [e.text for e in request.findall(f"{{{PARTNER}}}recordToMergeIds")] == [FIRST, SECOND]
    assert all(e.tag.startswith(f"{{{SOBJECT}}}") for e in master)


def test_a_merge_envelope_takes_at_most_two_records_besides_the_master() -> None:
    with pytest.raises(ValueError, match="1 to 2"):
        merge_envelope("sess!1", "Lead", LEAD, [FIRST, SECOND, "00Q8c0000000004AAA"], {})
    with pytest.raises(ValueError, match="1 to 2"):
        merge_envelope("sess!1", "Lead", LEAD, [], {})


def test_a_fault_is_read_from_its_exception_code_or_else_its_faultcode() -> None:
    detailed = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:sf="urn:fault.partner.soap.sforce.com"><e:Body><e:Fault><faultcode>sf:X</faultcode>'
        b"<faultstring>INVALID_SESSION_ID: Illegal Session</faultstring><detail><sf:UnexpectedErrorFault>"
        b"<sf:exceptionCode>INVALID_SESSION_ID</sf:exceptionCode></sf:UnexpectedErrorFault></detail>"
        b"</e:Fault></e:Body></e:Envelope>"
    )
    bare = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><e:Fault>'
        b"<faultcode>sf:INVALID_ID_FIELD</faultcode><faultstring>bad id</faultstring></e:Fault></e:Body>"
        b"</e:Envelope>"
    )

    detailed_fault, bare_fault = parse_fault(detailed), parse_fault(bare)

    assert detailed_fault is not None
    assert detailed_fault.exception_code == "INVALID_SESSION_ID"
    assert bare_fault is not None
    assert (bare_fault.exception_code, bare_fault.message) == ("INVALID_ID_FIELD", "bad id")
    assert parse_fault(b"<html>502 Bad Gateway</html>") is None


def test_a_merge_result_reads_success_merged_ids_and_errors_and_refuses_other_bodies() -> None:
    answer = (
        f'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns="{PARTNER}"><e:Body>'
        f"<mergeResponse><result><errors><message>deleted</message><statusCode>ENTITY_IS_DELETED"
        f"</statusCode></errors><id>{LEAD}</id><success>false</success></result></mergeResponse>"
        "</e:Body></e:Envelope>"
    ).encode()

    result = parse_merge_result(answer)

    assert not result.success
    assert [(e.status_code, e.message) for e in result.errors] == [("ENTITY_IS_DELETED", "deleted")]
    with pytest.raises(ValueError, match="no mergeResponse"):
        parse_merge_result(b"<ok/>")
    with pytest.raises(ValueError, match="not a SOAP answer"):
        parse_merge_result(b"cut sh")
