"""A seeded population of distinct, FEBRL-like people records for matching tests."""

from __future__ import annotations

import random

GIVEN = [
    "james",
    "olivia",
    "liam",
    "emma",
    "noah",
    "ava",
    "lucas",
    "mia",
    "ethan",
    "chloe",
    "mason",
    "grace",
    "henry",
    "zoe",
    "jack",
    "ruby",
    "leo",
    "isla",
    "oscar",
    "ella",
    "harry",
    "lily",
    "charlie",
    "sophie",
    "thomas",
    "amelia",
    "william",
    "hannah",
    "samuel",
    "jessica",
    "daniel",
    "sarah",
    "joshua",
    "emily",
    "benjamin",
    "holly",
    "matthew",
    "lauren",
]
SURNAMES = [
    "smith",
    "jones",
    "williams",
    "brown",
    "wilson",
    "taylor",
    "johnson",
    "white",
    "martin",
    "anderson",
    "thompson",
    "nguyen",
    "thomas",
    "walker",
    "harris",
    "lee",
    "ryan",
    "robinson",
    "kelly",
    "king",
    "davis",
    "wright",
    "evans",
    "roberts",
    "green",
    "hall",
    "wood",
    "jackson",
    "clarke",
    "patel",
    "campbell",
    "mitchell",
    "turner",
    "hughes",
    "edwards",
    "collins",
    "stewart",
    "morris",
]
STREETS = [
    "wallaby place",
    "hoseason street",
    "pridham street",
    "light street",
    "kumm place",
    "rich street",
    "garling street",
]
SUBURBS = [
    "cleveland",
    "marsden",
    "granville",
    "windermere",
    "harris park",
    "rokeby",
    "bundaberg",
    "dover",
    "orange",
]
STATES = ("nsw", "vic", "qld", "sa", "wa")


def population(size: int, seed: int = 11) -> list[dict[str, str]]:
    """``size`` people, no two alike in name or birth date."""
    rng = random.Random(seed)
    names = [(g, s) for g in GIVEN for s in SURNAMES]
    rng.shuffle(names)
    people = []
    dates: set[str] = set()
    for given, surname in names[:size]:
        while True:
            dob = f"{rng.randint(1930, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            if dob not in dates:
                dates.add(dob)
                break
        people.append(
            {
                "given_name": given,
                "surname": surname,
                "date_of_birth": dob,
                "street_number": str(rng.randint(1, 200)),
                "address_1": rng.choice(STREETS),
                "suburb": rng.choice(SUBURBS),
                "postcode": str(rng.randint(2000, 7999)),
                "state": rng.choice(STATES),
            }
        )
    return people
