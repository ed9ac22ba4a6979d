"""Routing conditions: each test, each combination, the leaf named in ``why``, bad shapes refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from agent.routing.rules import Condition


def when(spec: dict[str, Any]) -> Condition:
    return Condition.model_validate(spec)


def passes(spec: dict[str, Any], values: dict[str, Any]) -> bool:
    return when(spec).test(values)[0]


def refusal(spec: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        Condition.model_validate(spec)
    return str(caught.value)


# --- equals ------------------------------------------------------------------------


def test_equals_ignores_case_and_surrounding_space() -> None:
    assert passes({"field": "country", "equals": "US"}, {"country": " us "})
    assert not passes({"field": "country", "equals": "US"}, {"country": "USA"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1200, True), (1200.0, True), ("1200", True), ("1,200", True), ("1200.5", False), ("twelve", False)],
)
def test_equals_a_number_compares_numbers(value: object, expected: bool) -> None:
    assert passes({"field": "employees", "equals": 1200}, {"employees": value}) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), ("true", True), ("TRUE", True), (False, False)]
)
def test_equals_true_matches_true_and_its_text(value: object, expected: bool) -> None:
    assert passes({"field": "free_mail", "equals": True}, {"free_mail": value}) is expected


def test_equals_a_boolean_is_not_a_number() -> None:
    assert not passes({"field": "flag", "equals": True}, {"flag": 1})
    assert not passes({"field": "flag", "equals": 1}, {"flag": True})


def test_equals_false_matches_false_but_not_a_missing_value() -> None:
    assert passes({"field": "free_mail", "equals": False}, {"free_mail": False})
    assert not passes({"field": "free_mail", "equals": False}, {})
    assert not passes({"field": "free_mail", "equals": False}, {"free_mail": None})


def test_equals_zero_is_a_real_comparison() -> None:
    assert passes({"field": "employees", "equals": 0}, {"employees": 0})
    assert not passes({"field": "employees", "equals": 0}, {"employees": ""})


# --- in ----------------------------------------------------------------------------


def test_in_matches_any_listed_value_ignoring_case() -> None:
    condition = {"field": "country", "in": ["US", "CA"]}
    assert passes(condition, {"country": "ca"})
    assert not passes(condition, {"country": "MX"})


def test_in_compares_numbers_as_numbers() -> None:
    assert passes({"field": "tier", "in": [1, 2]}, {"tier": "2"})
    assert not passes({"field": "tier", "in": [1, 2]}, {"tier": "3"})


def test_in_keeps_booleans_as_booleans() -> None:
    # `in: [true]` used to be read as the number 1, so no boolean ever matched it.
    condition = when({"field": "free_mail", "in": [True]})
    assert condition.in_ == (True,)
    assert condition.test({"free_mail": True})[0]
    assert not condition.test({"free_mail": 1})[0]


# --- contains and regex ------------------------------------------------------------


def test_contains_finds_the_text_anywhere_ignoring_case() -> None:
    assert passes({"field": "title", "contains": "founder"}, {"title": "Co-Founder & CEO"})
    assert not passes({"field": "title", "contains": "founder"}, {"title": "Head of Sales"})


def test_regex_searches_ignoring_case() -> None:
    condition = {"field": "email_domain", "regex": r"\.(gov|mil)$"}
    assert passes(condition, {"email_domain": "NASA.GOV"})
    assert not passes(condition, {"email_domain": "gov.example.com"})


def test_regex_searches_rather_than_matching_from_the_start() -> None:
    assert passes({"field": "title", "regex": "vp|vice president"}, {"title": "Senior VP Sales"})


# --- range -------------------------------------------------------------------------


def test_range_bounds_are_inclusive() -> None:
    condition = {"field": "employees", "range": {"min": 200, "max": 999}}
    assert [passes(condition, {"employees": n}) for n in (199, 200, 999, 1000)] == [False, True, True, False]


def test_range_with_min_only_has_no_upper_bound() -> None:
    condition = {"field": "employees", "range": {"min": 1000}}
    assert passes(condition, {"employees": 1_000_000})
    assert not passes(condition, {"employees": 999})


def test_range_with_max_only_has_no_lower_bound() -> None:
    condition = {"field": "employees", "range": {"max": 50}}
    assert passes(condition, {"employees": -3})
    assert not passes(condition, {"employees": 51})


def test_range_reads_numbers_written_as_text_with_thousands_separators() -> None:
    assert passes({"field": "revenue", "range": {"min": 1000}}, {"revenue": " 1,500 "})


@pytest.mark.parametrize("value", ["many", "", None, True, "nan", "inf", "-inf"])
def test_a_value_that_is_not_a_number_is_never_in_a_range(value: object) -> None:
    assert not passes({"field": "employees", "range": {"max": 1000}}, {"employees": value})
    assert not passes({"field": "employees", "range": {"min": -1000}}, {"employees": value})


# --- missing fields ----------------------------------------------------------------


@pytest.mark.parametrize(
    "leaf",
    [
        {"equals": "x"},
        {"in": ["x"]},
        {"contains": "x"},
        {"regex": ".*"},
        {"range": {"min": 0}},
    ],
)
def test_a_missing_field_passes_no_test(leaf: dict[str, Any]) -> None:
    assert not passes({"field": "nowhere", **leaf}, {"country": "US"})


def test_a_missing_field_passes_its_negation() -> None:
    assert passes({"not": {"field": "nowhere", "equals": "x"}}, {})


# --- all / any / not -----------------------------------------------------------------

NA_ENTERPRISE = {
    "all": [
        {"field": "country", "in": ["US", "CA"]},
        {"field": "employees", "range": {"min": 1000}},
    ]
}


def test_all_needs_every_part() -> None:
    assert passes(NA_ENTERPRISE, {"country": "US", "employees": 5000})
    assert not passes(NA_ENTERPRISE, {"country": "US", "employees": 10})
    assert not passes(NA_ENTERPRISE, {"country": "DE", "employees": 5000})


def test_any_needs_one_part() -> None:
    condition = {"any": [{"field": "industry", "equals": "Government"}, {"field": "country", "equals": "VA"}]}
    assert passes(condition, {"country": "VA"})
    assert passes(condition, {"industry": "government"})
    assert not passes(condition, {"industry": "Retail", "country": "US"})


def test_not_inverts() -> None:
    assert passes({"not": {"field": "free_mail", "equals": True}}, {"free_mail": False})
    assert not passes({"not": {"field": "free_mail", "equals": True}}, {"free_mail": True})


def test_groups_nest() -> None:
    condition = {
        "any": [
            NA_ENTERPRISE,
            {"all": [{"field": "country", "equals": "GB"}, {"not": {"field": "free_mail", "equals": True}}]},
        ]
    }
    assert passes(condition, {"country": "CA", "employees": 1000})
    assert passes(condition, {"country": "GB", "free_mail": False})
    assert not passes(condition, {"country": "GB", "free_mail": True})
    assert not passes(condition, {"country": "CA", "employees": 999})


# --- why -------------------------------------------------------------------------------


def test_why_of_a_leaf_names_the_test_and_the_value_seen() -> None:
    assert when({"field": "country", "in": ["US", "CA"]}).test({"country": "US"}) == (
        True,
        "country in [US, CA]: 'US'",
    )
    assert when({"field": "employees", "range": {"min": 200, "max": 999}}).test({"employees": 50}) == (
        False,
        "employees in 200..999: 50",
    )
    assert when({"field": "employees", "range": {"min": 1000}}).test({})[1] == "employees in 1000..: missing"
    assert when({"field": "email_domain", "regex": r"\.gov$"}).test({"email_domain": "x.gov"})[1] == (
        "email_domain matches /\\.gov$/: 'x.gov'"
    )
    assert when({"field": "title", "contains": "vp"}).test({"title": ""})[1] == "title contains 'vp': missing"
    assert when({"field": "free_mail", "equals": True}).test({"free_mail": False})[1] == (
        "free_mail = True: False"
    )


def test_why_of_a_failed_all_is_the_first_failing_leaf() -> None:
    passed, why = when(NA_ENTERPRISE).test({"country": "US", "employees": 12})
    assert not passed
    assert why == "employees in 1000..: 12"


def test_why_of_a_passed_all_names_every_leaf() -> None:
    passed, why = when(NA_ENTERPRISE).test({"country": "US", "employees": 5000})
    assert passed
    assert why == "country in [US, CA]: 'US' and employees in 1000..: 5000"


def test_why_of_a_passed_any_is_the_first_passing_leaf() -> None:
    condition = {"any": [{"field": "country", "equals": "VA"}, {"field": "industry", "equals": "Government"}]}
    assert when(condition).test({"industry": "Government", "country": "US"}) == (
        True,
        "industry = 'Government': 'Government'",
    )


def test_why_of_a_failed_any_names_every_leaf() -> None:
    condition = {"any": [{"field": "country", "equals": "VA"}, {"field": "industry", "equals": "Government"}]}
    passed, why = when(condition).test({})
    assert not passed
    assert why == "country = 'VA': missing and industry = 'Government': missing"


def test_why_of_not_wraps_the_inner_reason() -> None:
    assert when({"not": {"field": "free_mail", "equals": True}}).test({"free_mail": True}) == (
        False,
        "not (free_mail = True: True)",
    )


# --- invalid shapes ------------------------------------------------------------------


def test_two_operators_on_one_field_are_refused_naming_both() -> None:
    message = refusal({"field": "country", "equals": "US", "in": ["US"]})
    assert "a condition on 'country' needs exactly one of equals, in, contains, regex, range" in message
    assert "(it has equals, in)" in message


def test_a_field_without_an_operator_is_refused() -> None:
    assert "a condition on 'country' needs exactly one of" in refusal({"field": "country"})


def test_an_operator_without_a_field_is_refused() -> None:
    assert "'equals' needs a field to compare" in refusal({"equals": "US"})
    assert "'in' needs a field to compare" in refusal({"in": ["US"]})


def test_a_field_beside_a_group_is_refused() -> None:
    message = refusal({"field": "country", "equals": "US", "all": [{"field": "x", "equals": 1}]})
    assert "cannot also hold all/any/not" in message


def test_two_groups_at_once_are_refused() -> None:
    leaf = {"field": "x", "equals": 1}
    assert "exactly one of all, any, not" in refusal({"all": [leaf], "any": [leaf]})


def test_an_empty_condition_is_refused() -> None:
    assert "a condition needs a field, or exactly one of all, any, not" in refusal({})


@pytest.mark.parametrize("group", ["all", "any"])
def test_an_empty_group_is_refused(group: str) -> None:
    assert f"'{group}' needs at least one condition" in refusal({group: []})


def test_an_empty_in_list_is_refused() -> None:
    assert "'in' on 'country' needs at least one value" in refusal({"field": "country", "in": []})


def test_a_regex_that_does_not_compile_is_refused_with_the_reason() -> None:
    message = refusal({"field": "email", "regex": "(gov"})
    assert "regex '(gov' does not compile: missing ), unterminated subpattern" in message


def test_a_range_with_min_above_max_is_refused() -> None:
    assert "min (1000) is above max (200)" in refusal(
        {"field": "employees", "range": {"min": 1000, "max": 200}}
    )


def test_a_range_without_bounds_is_refused() -> None:
    assert "a range needs min, max or both" in refusal({"field": "employees", "range": {}})


def test_an_unknown_key_is_refused() -> None:
    message = refusal({"field": "country", "equal": "US"})
    assert "equal" in message
    assert "Extra inputs are not permitted" in message


def test_a_nested_invalid_condition_is_refused() -> None:
    assert "'any' needs at least one condition" in refusal({"not": {"all": [{"any": []}]}})
