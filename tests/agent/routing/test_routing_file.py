"""Routing files: the shipped one loads clean; every problem is reported at its line."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from agent.errors import RoutingFileError
from agent.routing.config import RoutingConfig
from agent.routing.routing_file import load_routing, parse_routing_text

ROOT = Path(__file__).resolve().parents[3]

# Line numbers matter below: each line is numbered in the comment at its end.
BASE = """\
timezone: UTC                                  # 1
rules:                                         # 2
  - name: founders                             # 3
    when: {field: title, contains: founder}    # 4
    then: {pool: team}                         # 5
  - name: catch-all                            # 6
    then: {queue: triage}                      # 7
pools:                                         # 8
  team:                                        # 9
    members:                                   # 10
      - {owner: A, weight: 2}                  # 11
      - {owner: B, hours: "08:00-16:00"}       # 12
queues:                                        # 13
  triage: {channel: "#triage"}                 # 14
"""


def check(text: str, base: Path | None = None) -> tuple[RoutingConfig | None, list[str]]:
    config, problems = parse_routing_text(text, base=base or ROOT)
    return config, [str(problem) for problem in problems]


def errors_of(text: str, base: Path | None = None) -> list[str]:
    config, problems = check(text, base)
    assert config is None, "a file with an error gives no configuration"
    return problems


# --- the shipped file -----------------------------------------------------------------------


def test_the_shipped_routing_file_loads_without_problems() -> None:
    config, problems = load_routing(ROOT / "routing.yaml")

    assert problems == []
    assert [rule.name for rule in config.rules] == [
        "existing-account",
        "public-sector",
        "na-enterprise",
        "by-territory",
        "free-mail-by-country",
        "catch-all",
    ]
    assert config.fallback_queue == "inbound-triage"
    assert config.timezone == ZoneInfo("America/New_York")
    assert set(config.pools) == {"sales-na", "na-enterprise", "sales-emea"}


def test_the_shipped_file_reads_its_territory_csv_after_the_inline_territories() -> None:
    config, _ = load_routing(ROOT / "routing.yaml")

    assert [t.name for t in config.territories] == [
        "north-america",
        "uk-ireland",
        "dach",
        "benelux",
        "france",
    ]
    dach = config.territories[2]
    assert (dach.team, dach.country) == ("sales-emea", {"DE", "AT", "CH"})


def test_the_shipped_members_keep_their_zones_and_caps() -> None:
    config, _ = load_routing(ROOT / "routing.yaml")

    o001 = config.pools["sales-na"].members[0]
    assert (o001.owner, o001.weight, o001.hours) == ("O001", 3, "08:00-17:00")
    assert (o001.max_open_leads, o001.max_per_day) == (400, 40)
    assert config.member_zone(o001) == ZoneInfo("America/Los_Angeles")
    o008 = config.pools["sales-emea"].members[2]
    assert o008.days == ("mon", "tue", "wed", "thu")


def test_the_minimal_file_loads_with_defaults() -> None:
    config, problems = check(BASE)

    assert problems == []
    assert config is not None
    assert config.pools["team"].members[1].working_hours[1] is not None
    assert config.sla.remind_after == 30
    assert set(config.segments) == {"smb", "mid_market", "enterprise"}


# --- errors, each at its line ---------------------------------------------------------------


def test_an_unknown_key_is_reported_at_its_line() -> None:
    text = BASE.replace("    then: {pool: team}   ", "    then: {pool: team, colour: red}")
    assert errors_of(text) == ["line 5: error: unknown key 'colour' in rules.0.then"]


def test_an_unknown_top_level_key_is_reported_at_its_line() -> None:
    assert errors_of(BASE + "territory: [x]\n") == ["line 15: error: unknown key 'territory' in the file"]


def test_a_rule_sending_to_an_undefined_pool_is_reported_at_the_rule() -> None:
    text = BASE.replace("{pool: team}", "{pool: nobody}")
    assert errors_of(text) == ["line 5: error: rule founders sends to pool 'nobody', which is not defined"]


def test_a_rule_sending_to_an_undefined_queue_is_reported_at_the_rule() -> None:
    text = BASE.replace("{queue: triage}", "{queue: inbox}")
    assert errors_of(text) == ["line 7: error: rule catch-all sends to queue 'inbox', which is not defined"]


def test_a_last_rule_with_a_condition_is_not_a_catch_all() -> None:
    text = BASE.replace(
        "    then: {queue: triage}", "    when: {field: x, equals: 1}\n    then: {queue: triage}"
    )
    assert errors_of(text) == [
        "line 6: error: the last rule (catch-all) must be a catch-all fallback: "
        "no 'when', and 'then: {queue: ...}'"
    ]


def test_a_last_rule_sending_to_a_pool_is_not_a_catch_all() -> None:
    text = BASE.replace("{queue: triage}", "{pool: team}")
    assert errors_of(text) == [
        "line 6: error: the last rule (catch-all) must be a catch-all fallback: "
        "no 'when', and 'then: {queue: ...}'"
    ]


def test_two_rules_with_one_name_are_reported_at_the_second() -> None:
    text = BASE.replace("name: founders", "name: catch-all")
    assert errors_of(text) == ["line 6: error: rule name 'catch-all' is used twice"]


def test_every_broken_reference_is_reported_not_only_the_first() -> None:
    text = BASE.replace("{pool: team}", "{pool: nobody}").replace("{queue: triage}", "{queue: inbox}")
    assert errors_of(text) == [
        "line 5: error: rule founders sends to pool 'nobody', which is not defined",
        "line 7: error: rule catch-all sends to queue 'inbox', which is not defined",
    ]


def test_an_unknown_time_zone_is_reported_at_its_line() -> None:
    text = BASE.replace("timezone: UTC    ", "timezone: Mars/Olympus")
    assert errors_of(text) == [
        "line 1: error: timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)"
    ]


def test_an_unknown_member_time_zone_is_reported_once_at_the_member() -> None:
    # The pool also used to say "members: Tuple should have at least 1 item" for the same mistake.
    text = BASE.replace("{owner: A, weight: 2}", "{owner: A, timezone: Nowhere}")
    assert errors_of(text.replace("      - {owner: B, hours", "      # {owner: B, hours")) == [
        "line 11: error: pools.team.members.0.timezone: unknown time zone 'Nowhere' "
        "(use an IANA name like Europe/Berlin)"
    ]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("9 to 5", "hours must look like 09:00-17:30, not '9to5'"),
        ("08:00-25:00", "hours must look like 09:00-17:30, not '08:00-25:00'"),
        ("08:00-24:30", "hours must look like 09:00-17:30, not '08:00-24:30'"),
        ("16:00-08:00", "hours '16:00-08:00' must end after they start"),
        ("08:00-08:00", "hours '08:00-08:00' must end after they start"),
    ],
)
def test_bad_hours_are_reported_at_the_member(hours: str, message: str) -> None:
    text = BASE.replace('hours: "08:00-16:00"', f'hours: "{hours}"')
    assert errors_of(text) == [f"line 12: error: pools.team.members.1.hours: {message}"]


def test_a_bad_working_day_is_reported_at_the_member() -> None:
    text = BASE.replace("{owner: A, weight: 2}", "{owner: A, days: [mon, funday]}")
    assert errors_of(text) == [
        "line 11: error: pools.team.members.0.days.1: "
        "Input should be 'mon', 'tue', 'wed', 'thu', 'fri', 'sat' or 'sun'"
    ]


def test_a_duplicate_key_is_reported_at_its_second_use() -> None:
    text = BASE.replace("  triage: {channel", "  triage: {channel: '#a', channel")
    assert errors_of(text) == ["line 14: error: 'channel' is set twice (first on line 14); remove one"]


def test_a_duplicate_top_level_key_is_reported() -> None:
    problems = errors_of(BASE + "timezone: Europe/Berlin\n")
    assert problems == ["line 15: error: 'timezone' is set twice (first on line 1); remove one"]


def test_invalid_yaml_is_reported_at_its_line() -> None:
    text = BASE.replace('  triage: {channel: "#triage"}', '  triage: {channel: "#triage"')
    problems = errors_of(text)
    assert len(problems) == 1
    assert problems[0].startswith("line 15: error: not valid YAML:")


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    assert errors_of("- rules\n") == [
        "line 1: error: the routing file must be a mapping (rules: [...], pools: ...)"
    ]
    assert errors_of("") == ["line 1: error: the routing file must be a mapping (rules: [...], pools: ...)"]


def test_a_file_without_rules_is_refused() -> None:
    assert errors_of("timezone: UTC\n") == ["line 1: error: the file is missing 'rules'"]


def test_a_bad_condition_is_reported_at_its_rule() -> None:
    text = BASE.replace("{field: title, contains: founder}", "{field: title, regex: '(founder'}")
    problems = errors_of(text)
    assert len(problems) == 1
    assert problems[0].startswith("line 4: error: rules.0.when: regex '(founder' does not compile")


def test_a_territory_team_without_a_pool_is_reported_at_the_territory() -> None:
    text = (
        BASE
        + "territories:\n  - {name: na, team: team, country: US}\n  - {name: eu, team: emea, country: DE}\n"
    )
    assert errors_of(text) == ["line 17: error: territory eu names team 'emea', which has no pool"]


def test_two_territories_with_one_name_are_refused() -> None:
    text = (
        BASE
        + "territories:\n  - {name: na, team: team, country: US}\n  - {name: na, team: team, country: CA}\n"
    )
    assert errors_of(text) == ["line 17: error: territory name 'na' is used twice"]


# --- territory files ---------------------------------------------------------------------------


def test_a_missing_territory_file_is_reported_at_its_entry(tmp_path: Path) -> None:
    assert errors_of(BASE + "territory_files: [nope.csv]\n", tmp_path) == [
        "line 15: error: territory file nope.csv cannot be read: No such file or directory"
    ]


def test_a_territory_file_with_an_unknown_column_is_reported_at_its_entry(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name,team,region\nwest,team,west\n")
    assert errors_of(BASE + "territory_files:\n  - t.csv\n", tmp_path) == [
        "line 16: error: territory file t.csv: unknown column(s) region "
        "(use name, team, country, state, postcode_prefix, industry, segment)"
    ]


def test_a_bad_row_in_a_territory_file_names_the_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name,team,country\nwest,team,US\natlantis,team,Atlantis\n")
    assert errors_of(BASE + "territory_files: [t.csv]\n", tmp_path) == [
        "line 15: error: territory file t.csv, row 2: country: unknown country 'Atlantis'"
    ]


def test_a_territory_file_row_naming_an_unknown_team_names_the_file_and_row(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name,team,country\nwest,ghosts,US\n")
    assert errors_of(BASE + "territory_files: [t.csv]\n", tmp_path) == [
        "line 15: error: territory file t.csv, row 1: territory west names team 'ghosts', which has no pool"
    ]


def test_the_territory_files_are_read_from_the_routing_files_directory(tmp_path: Path) -> None:
    (tmp_path / "routing.yaml").write_text(BASE + "territory_files: t.csv\n")
    (tmp_path / "t.csv").write_text("name,team,country\nwest,team,US|CA\n")

    config, problems = load_routing(tmp_path / "routing.yaml")

    assert problems == []
    assert [(t.name, t.country) for t in config.territories] == [("west", {"US", "CA"})]


# --- overlap warnings --------------------------------------------------------------------------

TERRITORIES = """\
territories:                                   # 15
  - {name: usa, team: team, country: [US]}     # 16
  - {name: europe, team: team, country: [FR]}  # 17
  - {name: americas, team: team, country: [US, CA]}   # 18
"""


def test_overlapping_territories_warn_at_the_losing_territory_and_still_load() -> None:
    config, problems = check(BASE + TERRITORIES)

    assert config is not None
    assert [t.name for t in config.territories] == ["usa", "europe", "americas"]
    assert problems == ["line 18: warning: territories usa and americas overlap; usa wins (it comes first)"]


def test_a_losing_csv_territory_warns_at_the_territory_files_entry(tmp_path: Path) -> None:
    # The warning's line used to be looked up as if the CSV rows were inline territories,
    # giving the line of the `territories:` key (or of an unrelated inline territory).
    (tmp_path / "t.csv").write_text("name,team,country\nwest,team,US\nfrance,team,FR\n")
    config, problems = check(BASE + TERRITORIES + "territory_files: [t.csv]   # 19\n", tmp_path)

    assert config is not None
    assert problems == [
        "line 18: warning: territories usa and americas overlap; usa wins (it comes first)",
        "line 19: warning: territory file t.csv, row 1: "
        "territories usa and west overlap; usa wins (it comes first)",
        "line 19: warning: territory file t.csv, row 2: "
        "territories europe and france overlap; europe wins (it comes first)",
        "line 19: warning: territory file t.csv, row 1: "
        "territories americas and west overlap; americas wins (it comes first)",
    ]


def test_overlaps_between_rows_of_two_territory_files_name_the_losing_file(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("name,team,country\nall-us,team,US\n")
    (tmp_path / "b.csv").write_text("name,team,country,state\nwest,team,US,CA\n")
    text = BASE + "territory_files:\n  - a.csv\n  - b.csv\n"

    config, problems = check(text, tmp_path)

    assert config is not None
    assert problems == [
        "line 17: warning: territory file b.csv, row 1: "
        "territories all-us and west overlap; all-us wins (it comes first)"
    ]


def test_territory_values_are_read_as_written_not_as_yaml_numbers_or_booleans() -> None:
    # YAML 1.1 reads 0213 as the octal number 139 and NO (Norway) as false.
    text = (
        BASE
        + "territories:\n  - {name: north, team: team, country: [NO, SE], postcode_prefix: [0213, 010]}\n"
    )
    config, problems = check(text)

    assert problems == []
    assert config is not None
    (north,) = config.territories
    assert north.country == {"NO", "SE"}
    assert north.postcode_prefix == ("0213", "010")


# --- load_routing ---------------------------------------------------------------------------------


def test_load_routing_raises_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text(
        BASE.replace("{pool: team}   ", "{pool: team, colour: red}").replace("weight: 2", "weight: 0")
    )

    with pytest.raises(RoutingFileError) as caught:
        load_routing(path)

    assert [str(p) for p in caught.value.problems] == [
        "line 5: error: unknown key 'colour' in rules.0.then",
        "line 11: error: pools.team.members.0.weight: Input should be greater than or equal to 1",
    ]
    assert f"routing file {path} has 2 problem(s)" in str(caught.value)


def test_load_routing_of_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(RoutingFileError, match="cannot read the routing file"):
        load_routing(tmp_path / "nope.yaml")
