"""The zone of each covered state or province: data only, read by :mod:`agent.meetings.regions`.

Keys are ISO 3166-2 codes. The zone is the one most of the region's people use; a region
in ``SPANS_ZONES`` has a real share of them on another clock (Texas's El Paso, Florida's
panhandle, Ontario's north-west). A tiny exception (an island, a border town) does not count.
"""

from __future__ import annotations

from collections.abc import Mapping

_NY, _CHI, _DEN, _LA = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
_SP, _FOR, _MEX, _MTY = "America/Sao_Paulo", "America/Fortaleza", "America/Mexico_City", "America/Monterrey"

_US_STATES: Mapping[str, str] = {
    **dict.fromkeys(
        [
            "CT",
            "DC",
            "DE",
            "FL",
            "GA",
            "KY",
            "MA",
            "MD",
            "ME",
            "NC",
            "NH",
            "NJ",
            "NY",
            "OH",
            "PA",
            "RI",
            "SC",
            "VA",
            "VT",
            "WV",
        ],
        _NY,
    ),
    **dict.fromkeys(
        ["AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK", "SD", "TN", "TX", "WI"], _CHI
    ),
    **dict.fromkeys(["CO", "MT", "NM", "UT", "WY"], _DEN),
    **dict.fromkeys(["CA", "NV", "OR", "WA"], _LA),
    "MI": "America/Detroit",
    "IN": "America/Indiana/Indianapolis",
    "ID": "America/Boise",
    "AZ": "America/Phoenix",
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
    "VI": "America/St_Thomas",
    "GU": "Pacific/Guam",
    "MP": "Pacific/Saipan",
    "AS": "Pacific/Pago_Pago",
}
# ISO 3166-2 code -> IANA zone.
ZONES: Mapping[str, str] = {f"US-{code}": zone for code, zone in _US_STATES.items()} | {
    # Canada
    "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver",
    "CA-MB": "America/Winnipeg",
    "CA-NB": "America/Moncton",
    "CA-NL": "America/St_Johns",
    "CA-NS": "America/Halifax",
    "CA-NT": "America/Edmonton",
    "CA-NU": "America/Iqaluit",
    "CA-ON": "America/Toronto",
    "CA-PE": "America/Halifax",
    "CA-QC": "America/Toronto",
    "CA-SK": "America/Regina",
    "CA-YT": "America/Whitehorse",
    # Australia
    "AU-ACT": "Australia/Sydney",
    "AU-NSW": "Australia/Sydney",
    "AU-NT": "Australia/Darwin",
    "AU-QLD": "Australia/Brisbane",
    "AU-SA": "Australia/Adelaide",
    "AU-TAS": "Australia/Hobart",
    "AU-VIC": "Australia/Melbourne",
    "AU-WA": "Australia/Perth",
    # Brazil
    **{f"BR-{code}": _SP for code in ["DF", "ES", "GO", "MG", "PR", "RJ", "RS", "SC", "SP"]},
    **{f"BR-{code}": _FOR for code in ["CE", "MA", "PB", "PI", "RN"]},
    **{f"BR-{code}": "America/Maceio" for code in ["AL", "SE"]},
    **{f"BR-{code}": "America/Belem" for code in ["AP", "PA"]},
    "BR-AC": "America/Rio_Branco",
    "BR-AM": "America/Manaus",
    "BR-BA": "America/Bahia",
    "BR-MS": "America/Campo_Grande",
    "BR-MT": "America/Cuiaba",
    "BR-PE": "America/Recife",
    "BR-RO": "America/Porto_Velho",
    "BR-RR": "America/Boa_Vista",
    "BR-TO": "America/Araguaina",
    # Mexico
    **{
        f"MX-{code}": _MEX
        for code in [
            "AGU",
            "CHP",
            "CMX",
            "COL",
            "GRO",
            "GUA",
            "HID",
            "JAL",
            "MEX",
            "MIC",
            "MOR",
            "OAX",
            "PUE",
            "QUE",
            "SLP",
            "TAB",
            "TLA",
            "VER",
            "ZAC",
        ]
    },
    **{f"MX-{code}": _MTY for code in ["COA", "DUR", "NLE", "TAM"]},
    **{f"MX-{code}": "America/Mazatlan" for code in ["BCS", "NAY", "SIN"]},
    **{f"MX-{code}": "America/Merida" for code in ["CAM", "YUC"]},
    "MX-BCN": "America/Tijuana",
    "MX-CHH": "America/Chihuahua",
    "MX-ROO": "America/Cancun",
    "MX-SON": "America/Hermosillo",
}
SPANS_ZONES: frozenset[str] = frozenset(
    [
        "US-AK",
        "US-FL",
        "US-ID",
        "US-IN",
        "US-KS",
        "US-KY",
        "US-MI",
        "US-ND",
        "US-NE",
        "US-OR",
        "US-SD",
        "US-TN",
        "US-TX",
        "CA-BC",
        "CA-NL",
        "CA-NU",
        "CA-ON",
        "AU-NSW",
        "BR-AM",
        "MX-CHH",
        "MX-COA",
        "MX-NAY",
        "MX-NLE",
        "MX-TAM",
    ]
)
ALIASES: Mapping[str, str] = {
    # Common short names beside the ISO ones (folded: no accents, lower case).
    "washington dc": "US-DC",
    "newfoundland": "CA-NL",
    "pei": "CA-PE",
    "cdmx": "MX-CMX",
    "mexico city": "MX-CMX",
    "distrito federal": "MX-CMX",
    "estado de mexico": "MX-MEX",
    "coahuila": "MX-COA",
    "michoacan": "MX-MIC",
    "veracruz": "MX-VER",
}
