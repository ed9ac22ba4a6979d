from __future__ import annotations

import pytest

from agent.enrich.fields import classify_job_title
from agent.planner.titles import classify_title


@pytest.mark.parametrize(
    ("title", "function", "seniority"),
    [
        ("VP of Sales", "sales", "vp"),
        ("Vice President of Sales", "sales", "vp"),
        ("Chief Revenue Officer", "sales", "c_level"),
        ("Founder & CEO", "executive", "c_level"),
        ("Head of IT", "information_technology", "director"),
        ("Senior Software Engineer", "engineering", "individual_contributor"),
        ("Software Engineering Intern", "engineering", "individual_contributor"),
        ("Product Owner", "product", "individual_contributor"),
        ("Account Manager", "sales", "individual_contributor"),
        ("SDR", "sales", "individual_contributor"),
        ("CISO", "information_technology", "c_level"),
        ("Geschäftsführer", "executive", "c_level"),
        ("Leiter Vertrieb", "sales", "director"),
        ("Directeur Commercial", "sales", "director"),
        ("Customer Success Manager", "customer_success", "manager"),
    ],
)
def test_titles_read_as_function_and_seniority(title: str, function: str, seniority: str) -> None:
    answer = classify_job_title(title)
    assert (answer.function, answer.seniority) == (function, seniority)
    assert answer.complete
    assert answer.source == "offline:title-keywords"


def test_the_planner_table_has_the_phrase_fixes_too() -> None:
    # Longest phrase first, consumed: the "president" in "vice president" and the "owner" in
    # "product owner" are not C-level, in the planner's table as in the enrichment one.
    assert classify_title("Vice President of Sales").seniority == "vp"
    assert classify_title("Product Owner").seniority == "individual_contributor"
    assert classify_job_title("Vice President of Sales").seniority == "vp"
    assert classify_job_title("Product Owner").seniority == "individual_contributor"


def test_a_title_placed_on_one_axis_has_lower_confidence() -> None:
    answer = classify_job_title("Junior Analyst")
    assert (answer.function, answer.seniority) == (None, "individual_contributor")
    assert 0 < answer.confidence < classify_job_title("VP of Sales").confidence


@pytest.mark.parametrize("title", ["Data Scientist", "", None, "Wizard"])
def test_unknown_titles_are_left_for_the_model(title: str | None) -> None:
    answer = classify_job_title(title)
    assert (answer.function, answer.seniority, answer.confidence) == (None, None, 0.0)
