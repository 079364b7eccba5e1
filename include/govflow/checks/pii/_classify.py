"""Column-level decisions: which entities a column holds, from sampled Presidio findings.

Rules, in order, for each entity seen in a column's samples:
1. estimate: cells with the entity = candidates x (hits in the sample / sample size);
2. chance: a validator that passes only a few values of one uniform short format
   (Luhn on 16-digit references, phone parsing on 9-digit batch numbers) is a
   coincidence, not PII;
3. evidence: NER entities must dominate a values column, in its cells and in its
   distinct values (the model calling "Husband" a place makes a 40% rate out of
   one word in a six-value column), or, in free text, mark
   most of the name-like candidates with varied values (the model calling every
   "Graphic Interface" a person is not a name column); dates must fill the
   column; pattern entities need a finding that passed a checksum/validator, or
   else two findings and, in a values column, a rate of at least 5%;
4. containment: an entity found almost only inside a more frequent entity's
   matches (a phone-like run inside an IBAN, a "person" inside a street
   address, a URL inside an email) is part of that entity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from govflow.checks.pii._names import prose_name
from govflow.checks.pii._recognizers import NER_ENTITIES, STRONG_SCORE
from govflow.checks.pii._sampling import ColumnSamples, Sample

NER_WORD, NER_PAIR = "ner:word", "ner:pair"
# Rate an entity needs to be the content of a values column (NER is noisy: the
# small English model calls 15% of product titles and 35% of company names persons,
# and 65-95% of Latin-script personal names).
MIN_DOMINANT_RATE = {"PERSON": 0.5, "NRP": 0.5, "LOCATION": 0.3, "DATE_TIME": 0.3}
MIN_FREE_TEXT_NAME_SHARE = 0.3  # share of name-like free-text candidates that NER calls PERSON
MIN_DISTINCT_SHARE = 0.5  # distinct names among those hits
# Or this many distinct spans that read as names (a title before, or a given name first).
MIN_PROSE_NAMES = 3
MIN_WEAK_VALUES_RATE = 0.05  # unvalidated pattern matches in a values column
CHANCE_PASS_RATE = 0.5
CHANCE_MIN_GROUP = 5
CONTAINED_SHARE = 0.8
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class Finding:
    """One accepted Presidio result in a sampled text: entity, span, score, masked text,
    and a digest of the matched text (in memory only: counts distinct values)."""

    entity: str
    start: int
    end: int
    score: float
    recognizer: str
    masked: str
    digest: str


@dataclass
class EntityEvidence:
    entity: str
    estimate: float = 0.0
    candidates: int = 0
    sampled: int = 0
    hits: int = 0
    exact: bool = True
    source: str = ""
    value_share: float = 0.0  # share of the source sample's distinct values that hold it
    hit_texts: list[str] = field(default_factory=list)
    score: float = 0.0
    recognizers: set[str] = field(default_factory=set)
    confirmed: set[str] = field(default_factory=set)  # digests of person spans that read as names


def is_free_text(profile: Sample | None) -> bool:
    """Prose has lower-case words; names, addresses, codes and product titles mostly do not."""
    if profile is None or not profile.texts:
        return False
    counts = [
        sum(1 for w in text[:600].split() if w.isalpha() and w.islower() and len(w) > 1)
        for text in profile.texts
    ]
    return median(counts) >= 3


def _eligible(key: str, free_text: bool) -> frozenset[str] | None:
    """Entities a sample may give evidence for (None: the pattern entity named by the key)."""
    if key == NER_WORD:
        return frozenset() if free_text else NER_ENTITIES
    if key == NER_PAIR:
        return frozenset({"PERSON"}) if free_text else NER_ENTITIES
    return None


def _gather(
    col: ColumnSamples, findings: dict[str, list[Finding]], free_text: bool
) -> dict[str, EntityEvidence]:
    evidence: dict[str, EntityEvidence] = {}
    for key, sample in col.by_prescreen.items():
        if not sample.texts:
            continue
        eligible = _eligible(key, free_text)
        entities = eligible if eligible is not None else frozenset({key})
        for entity in entities:
            hit_texts = [t for t in sample.texts if any(f.entity == entity for f in findings.get(t, ()))]
            if not hit_texts:
                continue
            estimate = sample.count * len(hit_texts) / len(sample.texts)
            ev = evidence.setdefault(entity, EntityEvidence(entity))
            for text in hit_texts:
                for f in findings[text]:
                    if f.entity == entity:
                        ev.score = max(ev.score, f.score)
                        ev.recognizers.add(f.recognizer)
            ev.hit_texts.extend(t for t in hit_texts if t not in ev.hit_texts)
            if estimate > ev.estimate:
                ev.estimate, ev.candidates, ev.sampled = estimate, sample.count, len(sample.texts)
                ev.hits, ev.exact, ev.source = len(hit_texts), sample.exact, key
                ev.value_share = len(set(hit_texts)) / len(set(sample.texts))
    return evidence


def _chance_share(entity: str, sample: Sample | None, findings: dict[str, list[Finding]]) -> float:
    """Share of an entity's hits that sit in a uniform short format where most values fail."""
    if sample is None:
        return 0.0
    groups: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    hit_shapes = []
    for text, shape in zip(sample.texts, sample.shapes, strict=True):
        hit = any(f.entity == entity for f in findings.get(text, ()))
        if shape is not None:
            groups[shape][0] += 1
            groups[shape][1] += hit
        if hit:
            hit_shapes.append(shape)
    if not hit_shapes:
        return 0.0
    chance = 0
    for shape in hit_shapes:
        if shape is None:
            continue
        n, h = groups[shape]
        if n >= CHANCE_MIN_GROUP and h / n < CHANCE_PASS_RATE:
            chance += 1
    return chance / len(hit_shapes)


def _confirm_prose_names(ev: EntityEvidence, findings: dict[str, list[Finding]]) -> None:
    """In prose the small model calls firms, places and capitalised words persons: the evidence
    narrows to the cells whose person spans read as names (``_names.prose_name``: a title before,
    or a given name first, no institution word), with their rate and examples. Narratives that
    name a few people (a doctor, an official) among many other words then count with
    ``MIN_PROSE_NAMES`` distinct names, whatever their share."""
    confirmed = {
        (t, f.digest)
        for t in ev.hit_texts
        for f in findings[t]
        if f.entity == "PERSON" and prose_name(t, f.start, f.end)
    }
    texts = [t for t in ev.hit_texts if any(t == c for c, _ in confirmed)]
    ev.estimate = ev.candidates * len(texts) / ev.sampled
    ev.hits, ev.hit_texts = len(texts), texts
    ev.confirmed = {digest for _, digest in confirmed}


def _distinct_share(ev: EntityEvidence, findings: dict[str, list[Finding]]) -> float:
    digests = [f.digest for t in ev.hit_texts for f in findings[t] if f.entity == ev.entity]
    return len(set(digests)) / len(digests) if digests else 0.0


def _enough_evidence(
    ev: EntityEvidence, rate: float, free_text: bool, findings: dict[str, list[Finding]]
) -> str | None:
    """None if the evidence suffices, else the reason it does not."""
    if ev.entity == "DATE_TIME":
        needed = MIN_DOMINANT_RATE["DATE_TIME"]
        return None if rate >= needed else f"dates in {rate:.1%} of cells: not a date column"
    if ev.source in (NER_WORD, NER_PAIR):
        if free_text:
            share = ev.hits / ev.sampled if ev.sampled else 0.0
            if ev.hits < 2:
                if ev.entity == "PERSON":
                    return "fewer than two NER persons in free text read as names"
                return "a single NER match in free text"
            if ev.entity == "PERSON" and len(ev.confirmed) >= MIN_PROSE_NAMES:
                return None
            if share < MIN_FREE_TEXT_NAME_SHARE:
                return f"NER marks {share:.0%} of name-like text: below {MIN_FREE_TEXT_NAME_SHARE:.0%}"
            distinct = _distinct_share(ev, findings)
            if distinct < MIN_DISTINCT_SHARE:
                return f"the same few phrases repeat ({distinct:.0%} distinct): not names"
            return None
        needed = MIN_DOMINANT_RATE.get(ev.entity, 0.5)
        if rate < needed:
            return f"NER finds it in {rate:.1%} of cells: below {needed:.0%} for a values column"
        if ev.value_share < needed:
            return f"NER finds it in {ev.value_share:.0%} of the distinct values: below {needed:.0%}"
        return None
    if ev.score >= STRONG_SCORE:
        return None
    if ev.estimate < 2:
        return "a single unvalidated match"
    # A match inside a note ("call back on +49 ...") is no chance reading of a code column.
    if not free_text and rate < MIN_WEAK_VALUES_RATE and not _embedded(ev, findings):
        return f"unvalidated matches in {rate:.1%} of a values column"
    return None


def _embedded(ev: EntityEvidence, findings: dict[str, list[Finding]]) -> bool:
    """Most hits sit inside longer text with words around them, not as the whole cell."""
    inside = 0
    for text in ev.hit_texts:
        spans = [f for f in findings[text] if f.entity == ev.entity]
        rest = text
        for f in sorted(spans, key=lambda f: -f.start):
            rest = rest[: f.start] + rest[f.end :]
        inside += sum(1 for w in rest.split() if w.isalpha() and len(w) > 1) >= 2
    return inside > len(ev.hit_texts) / 2


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def _contained_in(
    ev: EntityEvidence, kept: list[EntityEvidence], findings: dict[str, list[Finding]]
) -> str | None:
    """The more frequent kept entity whose matches contain (nearly) all of this entity's hits."""
    if not ev.hit_texts:
        return None
    covered: Counter[str] = Counter()
    for text in ev.hit_texts:
        own = [f for f in findings[text] if f.entity == ev.entity]
        for other in kept:
            theirs = [f for f in findings[text] if f.entity == other.entity]
            if theirs and all(any(_overlaps(o, t) for t in theirs) for o in own):
                covered[other.entity] += 1
    for entity, n in covered.most_common():
        if n >= CONTAINED_SHARE * len(ev.hit_texts):
            return entity
    return None


def classify_column(col: ColumnSamples, findings: dict[str, list[Finding]]) -> dict[str, Any]:
    """The column's evidence: entities with rates and masked examples, plus what was ruled out."""
    free_text = is_free_text(col.profile)
    evidence = _gather(col, findings, free_text)
    discarded: dict[str, str] = {}
    candidates: list[EntityEvidence] = []
    for ev in evidence.values():
        rate = ev.estimate / col.non_empty if col.non_empty else 0.0
        if ev.entity not in NER_ENTITIES or ev.source not in (NER_WORD, NER_PAIR):
            share = _chance_share(ev.entity, col.by_prescreen.get(ev.entity), findings)
            if share >= 0.5:
                discarded[ev.entity] = "chance matches: most values of the same format fail the validator"
                continue
        if free_text and ev.entity == "PERSON" and ev.source == NER_PAIR and ev.sampled:
            _confirm_prose_names(ev, findings)
            rate = ev.estimate / col.non_empty if col.non_empty else 0.0
        reason = _enough_evidence(ev, rate, free_text, findings)
        if reason:
            discarded[ev.entity] = reason
            continue
        candidates.append(ev)

    kept: list[EntityEvidence] = []
    for ev in sorted(candidates, key=lambda e: (-e.estimate, e.entity)):
        container = _contained_in(ev, [k for k in kept if k.estimate >= ev.estimate], findings)
        if container:
            discarded[ev.entity] = f"found inside {container} matches"
            continue
        kept.append(ev)

    entities = {}
    for ev in sorted(kept, key=lambda e: e.entity):
        examples: list[str] = []
        for text in ev.hit_texts:
            for f in findings[text]:
                if ev.confirmed and f.digest not in ev.confirmed:
                    continue
                if f.entity == ev.entity and f.masked not in examples and len(examples) < MAX_EXAMPLES:
                    examples.append(f.masked)
        entities[ev.entity] = {
            "rate": round(min(1.0, ev.estimate / col.non_empty), 4),
            "estimated_cells": round(ev.estimate),
            "candidates": ev.candidates,
            "sampled": ev.sampled,
            "validated": ev.hits,
            "exact": ev.exact,
            "score": round(ev.score, 2),
            "recognizers": sorted(ev.recognizers),
            "examples": examples,
        }
    return {
        "entities": entities,
        "kind": "free_text" if free_text else "values",
        "non_empty": col.non_empty,
        "ruled_out": dict(sorted(discarded.items())),
    }
