"""Personal names by dictionary: does a column of short values hold people's names, in any case?

The NER model only sees capitalised text and calls capitalised species, products
and firms persons; a dictionary of given names and surnames does neither. The
dictionary is Faker's per-locale name lists (MIT, installed, ~30,000 given names
and ~30,000 surnames over 80+ locales), folded to lower case without accents.

A cell is read as tokens (titles, particles and initials set aside; "Last, First"
understood). It is a *full name* when a given name and a surname stand at the ends
(either order: "Hernandez Miguel" is common in registers), a *given name* or a
*surname* when it is one dictionary word. Many surnames are also words ("Brown",
"Hill", "Stone"), so a column is a name column only when most of its cells read
as names: full names alone suffice; single names need the column name to say so,
or an overwhelming share of given names over many distinct values.

A cell may hold a list of names ("Ana Ruiz; Li Wei", "Lea, Mark, Tom", a dozen names a
cell): cells are split on ``;`` ``|`` newlines `` and `` ``&`` and commas, and the items are
judged as above; the share of items that are names is reported. One comma between two single
words, or beside a title, is one name written surname first ("Smith, John", "Smith, Mr. John").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Words that sit in names but are not given names or surnames.
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "dame",
        "rev",
        "fr",
        "sr",
        "jr",
        "ii",
        "iii",
        "iv",
        "md",
        "phd",
        "esq",
        "herr",
        "frau",
        "mme",
        "mlle",
        "sig",
        "sra",
    ]
)
_PARTICLES = frozenset(
    [
        "de",
        "da",
        "das",
        "do",
        "dos",
        "del",
        "della",
        "di",
        "du",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "le",
        "la",
        "los",
        "las",
        "bin",
        "ben",
        "al",
        "el",
        "ibn",
        "ap",
        "mac",
        "st",
        "y",
        "e",
    ]
)
# A cell with one of these is a firm or a pair ("Smith, Johnson and Brown", "Müller GmbH").
_NOT_IN_NAMES = frozenset(
    [
        "and",
        "und",
        "et",
        "og",
        "och",
        "&",
        "inc",
        "ltd",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "kg",
        "sa",
        "sarl",
        "sas",
        "spa",
        "srl",
        "bv",
        "nv",
        "co",
        "corp",
        "group",
        "sons",
        "brothers",
        "bros",
        "company",
        "partners",
        "associates",
        "holdings",
        "foundation",
        "university",
    ]
)
_SPLIT = re.compile(r"[\s,;/]+")
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]{2,5}")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]?")
_LETTERS = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")
# Shares of a column's sampled cells (see the module docstring).
MIN_FULL_NAME_SHARE = 0.6
MIN_FULL_NAME_SHARE_HINTED = 0.35
MIN_SINGLE_NAME_SHARE_HINTED = 0.5
MIN_GIVEN_NAME_SHARE_UNHINTED = 0.9
MIN_DISTINCT_UNHINTED = 30
# NER's PERSON in a values column needs this share of cells holding a dictionary name.
MIN_NER_SUPPORT = 0.4
MAX_NAME_TOKENS = 6
MAX_HITS = 10


def fold(word: str) -> str:
    """Lower case without accents: ``Hernández`` -> ``hernandez``."""
    if word.isascii():  # no accents to drop, and NFKD/NFC leave ASCII alone
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    # NFC again: Hangul syllables decompose into jamo and must come back together.
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


@functools.lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames) from every Faker person provider, folded."""
    import importlib
    import pkgutil

    import faker.providers.person as people

    raw: dict[bool, set[str]] = {True: set(), False: set()}  # is a given name -> entries as written
    for module in pkgutil.iter_modules(people.__path__):
        provider = getattr(importlib.import_module(f"{people.__name__}.{module.name}"), "Provider", None)
        for attr in dir(provider) if provider is not None else ():
            if attr.startswith("_") or "names" not in attr or not ("first" in attr or "last" in attr):
                continue
            values = getattr(provider, attr)
            if not isinstance(values, (dict, tuple, list, set, frozenset)):
                continue
            raw["first" in attr].update(map(str, values))  # locales share entries: fold each once
    given: set[str] = set()
    family: set[str] = set()
    for is_given, entries in raw.items():
        target = given if is_given else family
        for value in entries:
            # Compound entries ("de la Cruz", "Mary-Jo") count by their parts too.
            for part in _SPLIT.split(fold(value)):
                for piece in (part, *part.split("-")):
                    if (len(piece) > 1 or _CJK_CHAR.match(piece)) and piece not in _PARTICLES:
                        target.add(piece)
    return frozenset(given), frozenset(family)


@dataclass(frozen=True)
class NameShares:
    """How a sample of cells reads as names (shares of the sampled cells)."""

    cells: int
    full: float  # a given name and a surname at the ends
    single: float  # one dictionary word (given or surname)
    given_single: float  # one given name
    any_token: float  # at least one dictionary word among the tokens
    name_shaped: float  # letters only, 1-6 words: how a name looks whatever the dictionary says
    distinct: int
    hits: tuple[str, ...] = ()  # the cells holding a dictionary name (for masked examples)


def _tokens(cell: str) -> tuple[list[str], bool] | None:
    """Name words of a cell (folded, titles/particles/initials dropped) and whether it had
    initials; None when the cell is not shaped like a name (digits, too many words)."""
    text = cell.strip()
    if not text or any(ch.isdigit() for ch in text) or "@" in text:
        return None
    if "," in text:  # "Hernandez, Miguel" -> "Miguel Hernandez"
        before, _, after = text.partition(",")
        text = f"{after} {before}"
    raw = [w.strip(".'’") for w in _SPLIT.split(text) if w.strip(".'’")]
    if not raw or len(raw) > MAX_NAME_TOKENS:
        return None
    words: list[str] = []
    initials = False
    for word in raw:
        folded = fold(word)
        if folded in _NOT_IN_NAMES:
            return None
        if folded.replace(".", "") in _TITLES or folded in _PARTICLES:
            continue
        if (len(folded) == 1 and not _CJK_CHAR.match(folded)) or _INITIALS.fullmatch(word):
            initials = True
            continue
        if not _is_word(folded):
            return None
        words.append(folded)
    return words, initials


def _is_word(word: str) -> bool:
    """Letters (and the marks of Indic scripts' vowel signs), with inner hyphens or apostrophes."""
    if not _LETTERS.match(word):
        return all(ch.isalpha() or unicodedata.category(ch)[0] == "M" or ch in "'’-" for ch in word)
    return True


def _is_name(word: str, names: frozenset[str]) -> bool:
    return word in names or ("-" in word and all(p in names for p in word.split("-")))


def _cjk_full_name(word: str, given: frozenset[str], family: frozenset[str]) -> bool:
    return any(word[:k] in family and word[k:] in given for k in (1, 2) if len(word) > k)


def name_shares(cells: Sequence[str]) -> NameShares:
    given, family = name_lists()
    n = len(cells)
    full = single = given_single = any_token = shaped = 0
    hits: list[str] = []
    for cell in cells:
        parsed = _tokens(cell)
        if parsed is None:
            continue
        words, initials = parsed
        if not words:
            continue
        shaped += 1
        known = [_is_name(w, given) or _is_name(w, family) for w in words]
        any_token += any(known)
        if any(known) and len(hits) < MAX_HITS:
            hits.append(cell)
        if len(words) >= 2:
            first, last = words[0], words[-1]
            ends = (_is_name(first, given) and _is_name(last, family)) or (
                _is_name(first, family) and _is_name(last, given)
            )
            full += ends and sum(known) >= len(words) - 1
        elif _CJK.fullmatch(words[0]) and _cjk_full_name(words[0], given, family):
            full += 1  # "王秀英", "김민준": surname and given name written together
        elif initials and (_is_name(words[0], family) or _is_name(words[0], given)):
            full += 1  # "J. Smith", "Smith J."
        elif known[0]:
            single += 1
            given_single += _is_name(words[0], given)
    div = n or 1
    return NameShares(
        cells=n,
        full=full / div,
        single=single / div,
        given_single=given_single / div,
        any_token=any_token / div,
        name_shaped=shaped / div,
        distinct=len({c.strip().casefold() for c in cells}),
        hits=tuple(hits),
    )


_LIST_MARK = re.compile(r"[;|\n]|\s(?:and|&)\s")
_LIST_SPLIT = re.compile(r"\s*(?:[;|\n,]|\s(?:and|&)\s)\s*")
MIN_LIST_CELLS = 0.2  # share of sampled cells holding two items or more
MIN_LIST_GIVEN = 0.6  # given names and full names among the items of an unhinted list
MIN_LIST_DISTINCT = 20


def list_items(cell: str) -> list[str]:
    """The items of a cell that lists names; ``[cell]`` when it holds one."""
    text = cell.strip()
    if _LIST_MARK.search(text) or text.count(",") >= 2:
        return [item for item in _LIST_SPLIT.split(text) if item]
    if text.count(",") == 1:
        sides = [side.split() for side in text.split(",")]
        titled = any(fold(w).strip(".") in _TITLES for side in sides for w in side)
        if not titled and all(len(side) >= 2 for side in sides):  # "Ana Ruiz, Li Wei"
            return [" ".join(side) for side in sides]
    return [text]


@dataclass(frozen=True)
class ListShares:
    """How cells read as lists of names."""

    list_cells: float  # share of cells with two items or more
    items_per_cell: float
    items: NameShares


def list_shares(cells: Sequence[str]) -> ListShares | None:
    """Name shares over the items of list cells; None when few cells are lists."""
    if not cells:
        return None
    split = [list_items(c) for c in cells]
    multi = sum(1 for items in split if len(items) >= 2) / len(cells)
    if multi < MIN_LIST_CELLS:
        return None
    items = [item for found in split for item in found]
    return ListShares(multi, len(items) / len(cells), name_shares(items))


def list_reason(lists: ListShares, *, hinted: bool) -> str | None:
    """Why list cells make a column of personal names, or None."""
    items = lists.items
    reason = name_column_reason(items, hinted=hinted)
    given = items.full + items.given_single
    if reason is None and given >= MIN_LIST_GIVEN and items.distinct >= MIN_LIST_DISTINCT:
        reason = f"{items.full + items.given_single:.0%} of the listed items are given or full names"
    if reason is None:
        return None
    return (
        f"lists in {lists.list_cells:.0%} of sampled cells ({lists.items_per_cell:.1f} items a cell); "
        f"of the items: {reason}"
    )


def name_column_reason(shares: NameShares, *, hinted: bool) -> str | None:
    """Why the cells make a personal-name column, or None when they do not."""
    if shares.cells == 0:
        return None
    if shares.full >= (MIN_FULL_NAME_SHARE_HINTED if hinted else MIN_FULL_NAME_SHARE):
        return f"{shares.full:.0%} of sampled cells are a given name and a surname"
    if hinted and shares.full + shares.single >= MIN_SINGLE_NAME_SHARE_HINTED:
        share = shares.full + shares.single
        return f"{share:.0%} of sampled cells are dictionary names, and the column name says names"
    if shares.given_single >= MIN_GIVEN_NAME_SHARE_UNHINTED and shares.distinct >= MIN_DISTINCT_UNHINTED:
        return f"{shares.given_single:.0%} of sampled cells are given names, {shares.distinct} distinct"
    return None


# Words that make a capitalised run an organisation or a place, not a person ("Lawrence Memorial
# Hospital", "Virginia Medicaid"), beside the firm words of ``_NOT_IN_NAMES``.
_INSTITUTION_WORDS = frozenset(
    {"hospital", "clinic", "center", "centre", "medical", "medicaid", "medicare", "health", "healthcare"}
    | {"pharmacy", "college", "school", "institute", "insurance", "services", "service", "bank"}
    | {"county", "city", "state", "department", "office", "agency", "memorial", "church", "hall"}
)
_TITLE_BEFORE = re.compile(r"\b(?:" + "|".join(sorted(_TITLES)) + r")\.?\s+$", re.IGNORECASE)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*$")
_INITIAL = re.compile(r"^[^\W\d_]\.$")
_RUN_WORD = re.compile(r"[^\W\d_][\w'’.-]*")


def _extend(text: str, start: int, end: int) -> tuple[int, int]:
    """The span grown over the capitalised words the model cut off: forward over any (the rest of
    "María Ángeles Torrecilla Ojeda", or the "VA Medical Center" that makes it a building), back
    over given names."""
    given, _ = name_lists()
    while True:
        gap = len(text[end:]) - len(text[end:].lstrip(" "))
        following = _RUN_WORD.match(text, end + gap) if 0 < gap <= 2 else None
        if following is None or not following.group()[0].isupper():
            break
        end = following.end()
    while True:
        before = text[:start].rstrip(" ")
        if len(text[:start]) - len(before) not in (1, 2):
            break
        previous = before.split(" ")[-1] if before else ""
        if not previous or not previous[0].isupper() or fold(previous) not in given:
            break
        start = len(before) - len(previous)
    return start, end


def prose_name(text: str, start: int, end: int) -> bool:
    """Whether NER's PERSON span ``text[start:end]`` in prose reads as a person's name.

    The small model calls many capitalised runs in prose persons (firms, places, "Breach").
    The span is first grown over the capitalised words next to it (``_extend``). It counts when
    it is written like a name (capitalised words and initials, no upper-case acronym, no
    institution or firm word: "William Jennings Bryan Dorn VA Medical Center" is a building) and
    either follows a title (``Dr. Saran``) or is at least two words starting with a dictionary
    given name (``Christina Heide``)."""
    start, end = _extend(text, start, end)
    words = text[start:end].split()
    if not words or len(words) > MAX_NAME_TOKENS:
        return False
    for word in words:
        if _INITIAL.match(word):
            continue
        if not _NAME_WORD.match(word) or not word[0].isupper() or word.isupper():
            return False
        if fold(word) in _INSTITUTION_WORDS or fold(word) in _NOT_IN_NAMES or fold(word) in _TITLES:
            return False
    full = [w for w in words if not _INITIAL.match(w)]
    if _TITLE_BEFORE.search(text[:start]):
        return len(full) >= 1
    given, _ = name_lists()
    return len(full) >= 2 and any(part in given for part in fold(full[0]).split("-"))  # "Adélaïde-Noémi"


def name_like(text: str, match: Any) -> bool:
    """Whether a capitalised run ``match`` in ``text`` may hold a person's name: a word of it is a
    dictionary given name, or a title stands right before it (picks the windows NER reads)."""
    if _TITLE_BEFORE.search(text[max(0, match.start() - 8) : match.start()]):
        return True
    given, _ = name_lists()
    return any(fold(w) in given for w in match.group().split())
