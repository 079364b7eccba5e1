"""Column kinds Presidio has no recognizer for, read from a uniform sample of a column's cells.

Each detector returns the share of sampled cells of its kind; ``_refine`` weighs
that share against what the column name says (a hinted column needs less).

1. street addresses without town or postcode ("2009 W. 6th St.", "Hauptstraße 5",
   "12 rue de la Paix", "Via Roma 12"): a house number beside a street word;
2. postcodes: US ZIP, UK, Canadian, Dutch, ... formats; a column of bare 4-5 digit
   numbers is a postcode column only when its name says so;
3. coordinates: "lat, lon" pairs, WKT points, degrees-minutes, or a numeric column
   named latitude/longitude whose values fit the range with decimals to spare;
4. identifier-shaped values (4+ digits, few distinct repeats) in a column whose
   name says national id, SSN or phone: the name and the shape together;
5. racial or ethnic group names, for a column named only "race" (also a competition's word).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import regex as re

_STREET_WORDS_AFTER = (
    "street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|place|pl|terrace|ter|"
    "parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|crescent|cres|close|grove|gardens|gdns|row|"
    "mews|alley|aly|walk|pike|plaza|plz|crossing|xing|ridge|estates?|expressway|"
    "expy|freeway|fwy|turnpike|tpke|causeway|heights|hts|hollow|manor|"
    "meadows?|orchard|rise|vale|villas?|wharf|wynd|broadway"
)
# Unabbreviated street words, for the "Baker Street 221b" order (short ones are too common).
_STREET_WORDS_LONG = "street|avenue|road|boulevard|drive|lane|square|terrace|crescent|parkway|highway"
_STREET_WORDS_BEFORE = (
    "rue|avenue|av|bd|boulevard|chemin|ch|allée|allee|impasse|place|pl|quai|route|rte|cours|"
    "calle|c/|avenida|avda|plaza|paseo|camino|carrer|carretera|ronda|via|viale|piazza|piazzale|corso|"
    "vicolo|largo|strada|rua|travessa|praça|praca|estrada|ulica|ul\\.?"
)
_STREET_SUFFIXES = (
    "straße|strasse|str\\.|weg|gasse|platz|allee|ring|damm|ufer|steig|pfad|chaussee|"
    "straat|laan|gracht|plein|kade|singel|dijk|steeg|gatan|vägen|vagen|gade|vej|veien|gata"
)
_NUMBER = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
ADDRESS = re.compile(
    rf"(?:^|(?<=[\s,]))(?:"
    # "2009 W. 6th St.", "221B Baker Street, Apt 4"
    rf"{_NUMBER},?\s+(?:[\w.'’-]+\s+){{1,5}}?(?:{_STREET_WORDS_AFTER})\b\.?"
    # "12 rue de la Paix", "5, Avenida Paulista"
    rf"|{_NUMBER},?\s+(?:bis\s+|ter\s+)?(?:{_STREET_WORDS_BEFORE})\s+\w"
    # "Calle Mayor 5", "Via Roma, 12", "Rua Augusta 100"
    rf"|(?:{_STREET_WORDS_BEFORE})\s+[\w .'’-]{{1,40}}?,?\s+(?:n[º°o.]?\s*)?{_NUMBER}\b"
    # "Hauptstraße 5", "Keizersgracht 123", "Storgatan 7"
    rf"|[\w'’-]*(?:{_STREET_SUFFIXES})\s*,?\s+{_NUMBER}\b"
    # "Am Markt 3", "Baker Street 221b" (name first, street word, number)
    rf"|(?:[\w.'’-]+\s+){{1,4}}(?:{_STREET_WORDS_LONG}),?\s+{_NUMBER}\b"
    rf"|p\.?\s?o\.?\s+box\s+\d+"
    rf")",
    re.IGNORECASE,
)

# In a column named for addresses, a house number and words suffice ("123 Smith Divide Apt. 4").
ADDRESS_WORDS = frozenset(
    {"address", "addr", "street", "strasse", "residence", "domicile", "adresse", "direccion"}
)
_HOUSE_NUMBER_FIRST = re.compile(
    r"^\s*\d{1,6}[A-Za-z]?,?\s+\p{L}[\p{L}.'’-]*(?:\s+[\p{L}\d][\p{L}\d.'’#-]*){0,8}"
)

_POSTCODE_DISTINCT = re.compile(
    r"^\s*(?:"
    r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"  # Canada
    r"|\d{4}\s?[A-Z]{2}"  # Netherlands
    r"|\d{5}-\d{4}"  # US ZIP+4
    r"|\d{2}-\d{3}|\d{4}-\d{3}|\d{3}-\d{4}|\d{5}-\d{3}"  # PL, PT, JP, BR
    r"|[A-Z]{1,3}-?\d{4,5}"  # "D-10115", "NL-1012", "CH-8001"
    r")\s*$",
    re.IGNORECASE,
)
_POSTCODE_NUMERIC = re.compile(r"^\s*(?:\d{3}\s?\d{2}|\d{4,6})\s*$")
POSTCODE_WORDS = frozenset(
    {"zip", "zipcode", "postcode", "postal", "plz", "postleitzahl", "cap", "cp", "pincode"}
)

_COORD = r"[-+]?\d{1,3}\.\d{2,}"
_PAIR = re.compile(
    rf"^\s*[\[(]?\s*(?P<a>{_COORD})\s*[°]?\s*[NSEW]?\s*[,; ]\s*(?P<b>{_COORD})\s*[°]?\s*[NSEW]?\s*[\])]?\s*$",
    re.IGNORECASE,
)
_WKT = re.compile(rf"^\s*POINT\s*Z?\s*\(\s*(?P<b>{_COORD})\s+(?P<a>{_COORD})(?:\s+[-\d.]+)?\s*\)\s*$", re.I)
_DMS = re.compile(r"\d{1,3}\s*°\s*\d{1,2}\s*['′]\s*(?:\d{1,2}(?:\.\d+)?\s*[\"″]\s*)?[NSEW]", re.IGNORECASE)
_NUMBER_VALUE = re.compile(r"^\s*[-+]?\d{1,3}\.(\d+)\s*$")
LATITUDE_WORDS = frozenset({"lat", "latitude", "breitengrad", "latitud"})
LONGITUDE_WORDS = frozenset({"lon", "lng", "long", "longitude", "laengengrad", "longitud"})
COORDINATE_WORDS = (
    LATITUDE_WORDS | LONGITUDE_WORDS | frozenset({"coordinates", "coords", "gps", "geo", "latlon"})
)
MIN_COORDINATE_DECIMALS = 2  # 0.01 degree is about 1 km: finer pins down a home or a place of death

# Headers naming a place; with place-name-shaped values (1-4 capitalised words) the column is LOCATION.
PLACE_WORDS = frozenset(
    [
        "city",
        "town",
        "village",
        "municipality",
        "county",
        "country",
        "state",
        "province",
        "region",
        "place",
        "birthplace",
        "hometown",
        "residence",
        "ort",
        "stadt",
        "ville",
        "ciudad",
        "citta",
    ]
)
_PLACE_NAME = re.compile(r"^\s*\p{Lu}[\p{L}'’.-]*(?:[ -](?:\p{L}[\p{L}'’.-]*|\(\p{L}+\))){0,4}\s*$")
MIN_PLACE_SHARE = 0.8

_ID_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{3,22}[A-Za-z0-9]$")

# Shares of sampled cells a detector needs: without a name hint, and with one.
MIN_SHARE = 0.6
MIN_SHARE_HINTED = 0.4
MIN_POSTCODE_DISTINCT = 10


def _share(cells: Sequence[str], test: Callable[[str], object]) -> float:
    return sum(1 for c in cells if test(c)) / len(cells) if cells else 0.0


def address_share(cells: Sequence[str], *, hinted: bool = False) -> float:
    """Street-address cells; in a column named for addresses, house-number-first cells too."""

    def is_address(cell: str) -> bool:
        if len(cell) > 200:
            return False
        return ADDRESS.search(cell) is not None or (hinted and _HOUSE_NUMBER_FIRST.match(cell) is not None)

    return _share(cells, is_address)


def postcode_share(cells: Sequence[str], *, hinted: bool) -> float:
    """Share of postcode-shaped cells: distinctive formats always, bare numbers only when hinted."""
    if not hinted and len({c.strip().upper() for c in cells}) < MIN_POSTCODE_DISTINCT:
        return 0.0
    if hinted:
        return _share(cells, lambda c: bool(_POSTCODE_DISTINCT.match(c) or _POSTCODE_NUMERIC.match(c)))
    return _share(cells, lambda c: bool(_POSTCODE_DISTINCT.match(c)) and any(ch.isalpha() for ch in c))


def _pair_in_range(match: re.Match[str]) -> bool:
    lat, lon = float(match["a"]), float(match["b"])
    return abs(lat) <= 90 and abs(lon) <= 180


def coordinate_pair_share(cells: Sequence[str]) -> float:
    """Cells holding one point: "51.5074, -0.1278", "(40.71, -74.00)", WKT or degrees-minutes."""

    def is_point(cell: str) -> bool:
        match = _PAIR.match(cell) or _WKT.match(cell)
        if match:
            return _pair_in_range(match)
        return len(cell) <= 60 and len(_DMS.findall(cell)) == 2

    return _share(cells, is_point)


def coordinate_column_share(cells: Sequence[str], tokens: set[str]) -> float:
    """A numeric latitude or longitude column: named so, in range, with decimals to spare."""
    if not tokens & COORDINATE_WORDS:
        return 0.0
    limit = 90.0 if tokens & LATITUDE_WORDS else 180.0

    def precise(cell: str) -> bool:
        match = _NUMBER_VALUE.match(cell)
        return bool(match) and len(match[1]) >= MIN_COORDINATE_DECIMALS and abs(float(cell)) <= limit

    return _share(cells, precise)


def place_name_share(cells: Sequence[str]) -> float:
    """Cells shaped like a place name: capitalised words, no digits ("Lake Jamesville", "Saint-Étienne")."""
    return _share(cells, lambda c: len(c) <= 60 and _PLACE_NAME.match(c) is not None)


# Census and survey words for racial and ethnic groups, abbreviations included ("Amer-Indian-Eskimo").
_GROUP_CATEGORY_WORDS = frozenset(
    {"white", "black", "asian", "hispanic", "latino", "latina", "latinx", "caucasian", "african"}
    | {"american", "amer", "indian", "native", "alaska", "alaskan", "eskimo", "aleut", "pacific", "pac"}
    | {"islander", "hawaiian", "arab", "arabic", "middle", "eastern", "mixed", "multiracial", "biracial"}
    | {"multiple", "chinese", "japanese", "korean", "filipino", "vietnamese", "mexican", "cuban"}
    | {"puerto", "rican", "european", "indigenous", "aboriginal", "maori", "roma", "jewish", "han"}
)
_WORDS = re.compile(r"\p{L}+")
# "race" also names a competition (a 5k, a horse race): named only so, the values must name groups.
AMBIGUOUS_GROUP_WORDS = frozenset({"race"})
MIN_GROUP_SHARE = 0.6


def group_category_share(cells: Sequence[str]) -> float:
    """Cells naming a racial or ethnic group ("White", "Asian-Pac-Islander"), or a one-letter code
    of one ("W", "B"): a "race" column of "5k" and "half-marathon" names competitions instead."""

    def is_group(cell: str) -> bool:
        words = [w.casefold() for w in _WORDS.findall(cell)]
        coded = len(cell.strip()) == 1 and cell.strip().isalpha()
        return coded or any(w in _GROUP_CATEGORY_WORDS for w in words)

    return _share(cells, is_group)


def id_shaped_share(cells: Sequence[str], *, min_digits: int) -> float:
    """Identifier-shaped cells (codes with ``min_digits`` digits or more), zero if values repeat a lot."""
    if not cells or len(set(cells)) < 0.3 * len(cells):
        return 0.0
    return _share(
        cells, lambda c: bool(_ID_SHAPE.match(c.strip())) and sum(ch.isdigit() for ch in c) >= min_digits
    )
