"""The PII scan: stream the table, sample candidates, let Presidio judge the samples.

1. Every chunk of every column goes through each entity's cheap RE2 pre-screen
   (vectorised by pyarrow, on the chunk's distinct values), so all rows are looked at and
   sparse PII is not missed.
2. Bounded uniform samples of each pre-screen's candidates are kept (memory does
   not grow with the file), plus samples of capitalised text for the NER model; one random
   draw per cell serves every sample of a column, so overlapping samples hold the same cells.
3. Presidio (its pattern recognizers with their checksums and validators, and spaCy
   NER on the NER samples only) judges each distinct sampled text once.
4. Column-level rules turn the findings into entities and rates (``_classify``).
5. A second look at each column's uniform sample adds what Presidio cannot see, weighed
   with the column name: names in any case, street addresses, postcodes, coordinates,
   dates of birth, lists of names in one cell (``_refine``).
6. The table as a whole (``_table``): its subject (people or not) decides whether places are
   personal, keys of people (PERSON_ID), dates of birth in parts (year/month/day columns, an
   age beside an event date) and event dates apart from births.
7. Quasi-identifier columns give k-anonymity and the share of unique rows (``_risk``).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckInputError, CheckResult, CheckStatus
from govflow.checks.pii._classify import NER_PAIR, NER_WORD, Finding, classify_column, is_free_text
from govflow.checks.pii._dates import birth_date_reason
from govflow.checks.pii._hints import column_tokens, name_hint
from govflow.checks.pii._masking import mask
from govflow.checks.pii._prescreen import Prescreen, prescreens
from govflow.checks.pii._read import table_chunks
from govflow.checks.pii._recognizers import (
    NER_ENTITIES,
    NON_PERSONAL_ENTITIES,
    PRESCREENS,
    CustomRecognizer,
    custom_recognizers,
    min_score,
)
from govflow.checks.pii._refine import COORDINATES, refine_column
from govflow.checks.pii._risk import RiskAccumulator, fits_kind, qi_kind
from govflow.checks.pii._sampling import ColumnSamples, Sample
from govflow.checks.pii._table import TableFacts, table_rules
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import pandas as pd

CHECK = "pii"
# Keyed per process: the digests only count distinct values and never leave memory.
_DIGEST_KEY = os.urandom(16)


def _as_strings(series: pd.Series) -> Any:
    """A column as a pyarrow string array (missing values null), whatever its dtype."""
    import pyarrow as pa

    if series.dtype == object or str(series.dtype).startswith("string"):
        try:
            return pa.array(series, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass  # mixed objects (bytes, numbers): stringify below
    present = series.notna().to_numpy()
    values = [str(v) if keep else None for v, keep in zip(series.tolist(), present, strict=True)]
    return pa.array(values, type=pa.large_string())


def _sample_chunk(
    col: ColumnSamples, series: pd.Series, screens: list[Prescreen], rng: Any, profile_size: int
) -> None:
    """Offer one chunk of a column to its samples.

    The pre-screens run on the chunk's distinct values (a dictionary encoding), not on every
    cell: categorical and repeated columns cost their few distinct values. Every sample of the
    column draws its random keys from one draw per cell (coordinated samples), so samples of
    overlapping candidates hold the same cells and Presidio judges each of them once."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = _as_strings(series).dictionary_encode()
    values, indices = encoded.dictionary, encoded.indices
    if not len(values):
        return
    codes = indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    # One slot past the dictionary stands for a missing cell: never present, never a candidate.
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    present = np.append(lengths > 0, False)[codes]
    n_present = int(present.sum())
    if not n_present:
        return
    col.non_empty += n_present
    keys = rng.random(len(codes))
    if col.profile is None:
        col.profile = Sample(profile_size)
    col.profile.offer(values, codes, present, keys, None)
    for screen in screens:
        sample = col.by_prescreen.get(screen.key)
        if sample is None:
            sample = col.by_prescreen[screen.key] = Sample(screen.size)
        hits = screen.mask(values)
        if not hits.any():
            continue
        sample.offer(
            values,
            codes,
            np.append(hits, False)[codes] & present,
            keys,
            screen.window_finder,
            screen.window_prefer,
        )


def _findings(results: Sequence[Any], text: str, custom_min: dict[str, float]) -> list[Finding]:
    out = []
    for r in results:
        recognizer = (r.recognition_metadata or {}).get("recognizer_name", "")
        if r.entity_type in NON_PERSONAL_ENTITIES:
            continue
        # spaCy's DATE/TIME labels fire on "3 days" or "Q4": dates come from Presidio's DateRecognizer.
        if recognizer == "SpacyRecognizer" and r.entity_type not in NER_ENTITIES:
            continue
        if r.score < min_score(r.entity_type, custom_min):
            continue
        span = text[r.start : r.end]
        if r.entity_type == "PHONE_NUMBER" and _in_decimal(text, r.start, r.end):
            continue
        digest = hashlib.blake2b(span.casefold().encode(), digest_size=8, key=_DIGEST_KEY).hexdigest()
        out.append(
            Finding(
                r.entity_type, r.start, r.end, float(r.score), recognizer, mask(r.entity_type, span), digest
            )
        )
    return out


_DECIMAL = re.compile(r"[-+]?\d{1,9}[.,](?P<fraction>\d+)")
# A cell that is one such decimal ("47.1628", " -0.0301961234"): any phone span in it widens to the
# whole number, so ``_in_decimal`` drops every phone the recognizer could find there.
_PLAIN_DECIMAL = re.compile(r" *[-+]?[0-9]{1,9}[.,][0-9]*[1-9][0-9]* *")
_NUMBER_CHARS = frozenset("0123456789.,")


def _in_decimal(text: str, start: int, end: int) -> bool:
    """Whether a phone-number span is (part of) a decimal number: a measurement, not a phone.

    The phone recognizer reads digit runs wherever they start: in "0.0301961234" (a model's
    score) it finds "0301961234" after the point. So the span is widened over the digits and
    separators it is glued to before it is judged: "779.4453145" and "0.0301961234" are
    decimals; "555.123.4567" (two separators), "2125551234.0" (ten digits before the point)
    and "301961234.0" (a whole number written as a float: a phone column with gaps read as
    floats) are not.
    """
    while start > 0 and text[start - 1] in _NUMBER_CHARS:
        start -= 1
    while end < len(text) and text[end] in _NUMBER_CHARS:
        end += 1
    match = _DECIMAL.fullmatch(text[start:end].strip())
    return match is not None and match["fraction"].strip("0") != ""


# Presidio first judges this many items of a pre-screen's sample; when none or all of
# them hold the entity, that smaller sample settles the column (phone validation
# costs ~1 ms a value, and most numeric columns are clear-cut).
FIRST_LOOK = 50


def _judge(
    columns: list[ColumnSamples], screens: list[Prescreen], customs: Sequence[CustomRecognizer]
) -> dict[str, list[Finding]]:
    """Presidio's verdict on the distinct sampled texts. Each text meets only the
    recognizers whose pre-screen it matches, and spaCy only if it is an NER sample."""
    from govflow.checks.pii._engine import LANGUAGE, analyzer_engine, empty_artifacts, ner_artifacts

    engine = analyzer_engine()
    ad_hoc: dict[str, Any] = {c.entity: c.to_presidio() for c in customs}
    custom_min = {c.entity: c.min_score for c in customs}
    entity_screens = [s for s in screens if s.key not in (NER_WORD, NER_PAIR)]
    findings: dict[str, list[Finding]] = {}

    def analyze(text: str, artifacts: Any, extra: frozenset[str] = frozenset()) -> list[Finding]:
        entities = {s.key for s in entity_screens if s.finder.search(text)} | extra
        if "PHONE_NUMBER" in entities and _PLAIN_DECIMAL.fullmatch(text):
            entities.discard("PHONE_NUMBER")  # whatever it finds, ``_in_decimal`` drops: ~1 ms saved
        if not entities:
            return []
        recognizers = [ad_hoc[e] for e in entities if e in ad_hoc] or None
        results = engine.analyze(
            text=text,
            language=LANGUAGE,
            entities=sorted(entities),
            nlp_artifacts=artifacts,
            ad_hoc_recognizers=recognizers,
        )
        return _findings(results, text, custom_min)

    ner_texts: set[str] = set()
    for col in columns:
        free_text = is_free_text(col.profile)
        for key, sample in col.by_prescreen.items():
            sample.sort_by_key()
            if key == NER_WORD and free_text:
                sample.truncate(
                    0
                )  # no evidence in prose (``_classify._eligible``): not worth the model's time
            if key in (NER_WORD, NER_PAIR):
                ner_texts.update(sample.texts)
    ner_list = sorted(ner_texts)
    for text, artifacts in zip(ner_list, ner_artifacts(ner_list), strict=True):
        findings[text] = analyze(text, artifacts, NER_ENTITIES)

    no_tokens = empty_artifacts()

    def judge(texts: list[str]) -> None:
        for text in texts:
            if text not in findings:
                findings[text] = analyze(text, no_tokens)

    for col in columns:
        for key, sample in col.by_prescreen.items():
            if key in (NER_WORD, NER_PAIR):
                continue
            judge(sample.texts[:FIRST_LOOK])
            if len(sample.texts) > FIRST_LOOK:
                own = [any(f.entity == key for f in findings[t]) for t in sample.texts[:FIRST_LOOK]]
                if not any(own) or all(own):
                    sample.truncate(FIRST_LOOK)
                else:
                    judge(sample.texts[FIRST_LOOK:])
    return findings


def scanned_pattern_entities() -> list[str]:
    """Pattern entities the engine can report and the scan pre-screens for."""
    from govflow.checks.pii._engine import analyzer_engine

    supported = set()
    for recognizer in analyzer_engine().registry.recognizers:
        if getattr(recognizer, "name", "") != "SpacyRecognizer":
            supported.update(recognizer.supported_entities)
    return sorted((supported & set(PRESCREENS)) - NON_PERSONAL_ENTITIES)


def scan(
    data: str | Path | pd.DataFrame,
    *,
    allowed_entities: Collection[str],
    custom_recognizer_specs: Sequence[Any],
    chunk_rows: int,
    sample_size: int,
    ner_sample_size: int,
    seed: int,
    min_k_anonymity: int | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    import numpy as np

    if chunk_rows < 1 or sample_size < 1 or ner_sample_size < 1:
        raise CheckInputError("chunk_rows, sample_size and ner_sample_size must be positive")
    if min_k_anonymity is not None and min_k_anonymity < 1:
        raise CheckInputError("min_k_anonymity must be at least 1")
    customs = custom_recognizers(custom_recognizer_specs)
    report = resolve(progress)
    keys, repeats, raw, chunks = table_chunks(data, chunk_rows, report)
    first = next(chunks, None)  # bad input fails here, before the model loads
    source = "data" if not isinstance(data, (str, Path)) else str(data)
    if first is None or len(first) == 0:
        raise CheckInputError(f"{source} has no data rows")
    if first.shape[1] == 0:
        raise CheckInputError(f"{source} has no columns")
    pattern_entities = scanned_pattern_entities()
    screens = prescreens(customs, pattern_entities, sample_size, ner_sample_size)
    rng = np.random.default_rng(seed)

    columns = [ColumnSamples(key) for key in keys]
    risk = RiskAccumulator(_risk_candidates(first, keys, repeats))
    rows = 0
    for chunk in itertools.chain([first], chunks):
        rows += len(chunk)
        for i, col in enumerate(columns):
            _sample_chunk(col, chunk.iloc[:, i], screens, rng, sample_size)
        risk.offer(chunk)

    report("pii: Presidio on the sampled candidates", 0, unit="values")
    findings = _judge(columns, screens, customs)
    allowed = {e.upper() for e in allowed_entities}
    custom_hints = [(c.entity, (*c.context, c.name)) for c in customs]
    verdicts: dict[str, dict[str, Any]] = {}
    for col in columns:
        verdict = classify_column(col, findings)
        # The header as written: a repeated name's key ("name (2)") is not the name.
        header = repeats.get(col.name, col.name)
        hint = name_hint(header, custom_hints)
        verdict = refine_column(col, verdict, hint=hint, tokens=set(column_tokens(header)))
        verdict = {
            "entities": verdict["entities"],
            "name_hint": hint,
            **{k: v for k, v in verdict.items() if k != "entities"},
        }
        if col.name in repeats:
            verdict["repeats"] = repeats[col.name]
        if col.name in raw:  # the name as written (a byte-order mark, padding); the key is clean
            verdict["header_as_written"] = raw[col.name]
        verdicts[col.name] = verdict
    headers = {key: repeats.get(key, key) for key in verdicts}
    profiles = {c.name: [t for t in (c.profile.texts if c.profile else []) if t.strip()] for c in columns}
    facts = table_rules(verdicts, headers, profiles)
    reidentification = _reidentification(verdicts, columns, risk, repeats, min_k_anonymity)
    _coordinates_need_people(verdicts, reidentification["quasi_identifiers"])
    for verdict in verdicts.values():
        for entity, info in verdict["entities"].items():
            info["allowed"] = entity in allowed
    return _result(
        verdicts,
        rows,
        allowed,
        customs,
        (chunk_rows, sample_size, ner_sample_size),
        reidentification,
        repeats,
        facts,
    )


# A first chunk in which this share of a column's cells look like dates makes it a
# candidate quasi-identifier (a date of birth whose header does not say so).
DATE_CANDIDATE_SHARE = 0.3
DATE_CANDIDATE_CELLS = 200
# Entities that say a table is about people (coordinates alone may be of shops or stations).
_NOT_PERSONAL_ON_THEIR_OWN = frozenset({"LOCATION", "DATE_TIME", "NRP", "URL"})


def _risk_candidates(first: pd.DataFrame, keys: Sequence[str], repeats: dict[str, str]) -> dict[str, str]:
    """Columns whose rows are hashed for k-anonymity: named quasi-identifiers, and columns whose
    first cells already read as birth dates (each candidate costs 8 bytes a row)."""
    import pyarrow.compute as pc

    candidates: dict[str, str] = {}
    for i, key in enumerate(keys):
        header = repeats.get(key, key)
        kind = qi_kind(header)
        if kind is not None:
            candidates[key] = kind
            continue
        array = _as_strings(first.iloc[:, i])
        dated = pc.match_substring_regex(array, PRESCREENS["DATE_TIME"]).fill_null(False)
        if (pc.sum(dated).as_py() or 0) < DATE_CANDIDATE_SHARE * max(1, len(array) - array.null_count):
            continue
        cells = [v for v in array.filter(dated).slice(0, DATE_CANDIDATE_CELLS).to_pylist() if v]
        if birth_date_reason(cells, column_tokens(header)):
            candidates[key] = "date"
    return candidates


def _reidentification(
    verdicts: dict[str, dict[str, Any]],
    columns: Sequence[ColumnSamples],
    risk: RiskAccumulator,
    repeats: dict[str, str],
    min_k_anonymity: int | None,
) -> dict[str, Any]:
    """Which columns are quasi-identifiers, and how many rows share their values."""
    profiles = {c.name: (c.profile.texts if c.profile else []) for c in columns}
    chosen: dict[str, str] = {}
    for key, kind in risk.candidates.items():
        entities = verdicts[key]["entities"]
        if "DATE_OF_BIRTH" in entities:
            chosen[key] = "date_of_birth"
        elif kind != "date" and fits_kind(kind, profiles[key], repeats.get(key, key)):
            chosen[key] = kind
    measured = risk.measure(list(chosen))
    k = measured["k_anonymity"]
    below = min_k_anonymity is not None and k is not None and k < min_k_anonymity
    return {
        "quasi_identifiers": list(chosen),
        "kinds": chosen,
        **measured,
        "min_k_anonymity": min_k_anonymity,
        "below_min_k_anonymity": below,
        "method": "exact over every row: equivalence classes of the quasi-identifiers' raw values "
        "(hashed per row, no generalisation); k is the smallest class",
    }


def _coordinates_need_people(verdicts: dict[str, dict[str, Any]], quasi_identifiers: Sequence[str]) -> None:
    """Coordinates are personal data in a table about people; a table of shops or stations
    with no other personal column keeps them, ruled out with the reason."""
    personal = bool(quasi_identifiers) or any(
        set(v["entities"]) - _NOT_PERSONAL_ON_THEIR_OWN for v in verdicts.values()
    )
    if personal:
        return
    for verdict in verdicts.values():
        if verdict.get("location_kind") == COORDINATES and "LOCATION" in verdict["entities"]:
            info = verdict["entities"]["LOCATION"]
            if info.get("recognizers") == ["Coordinates"]:
                del verdict["entities"]["LOCATION"]
                verdict["ruled_out"]["LOCATION"] = "coordinates in a table with no other personal data"


def _result(
    report: dict[str, dict[str, Any]],
    rows: int,
    allowed: set[str],
    customs: Sequence[CustomRecognizer],
    sizes: tuple[int, int, int],
    reidentification: dict[str, Any],
    repeats: dict[str, str],
    facts: TableFacts,
) -> CheckResult:
    chunk_rows, sample_size, ner_sample_size = sizes
    with_pii = [name for name, col in report.items() if col["entities"]]
    found = sorted({e for col in report.values() for e in col["entities"]})
    not_allowed = [e for e in found if e not in allowed]
    hint_only = [
        name
        for name, col in report.items()
        if col["name_hint"] and not col["entities"] and col["name_hint"] not in allowed
    ]
    too_identifiable = reidentification["below_min_k_anonymity"]
    status: CheckStatus = "fail" if not_allowed or too_identifiable else "warn" if hint_only else "pass"
    summary = {
        "rows": rows,
        "columns": len(report),
        "columns_with_pii": with_pii,
        "entities_found": found,
        "entities_not_allowed": not_allowed,
        "name_hint_only_columns": hint_only,
        "quasi_identifiers": reidentification["quasi_identifiers"],
        "k_anonymity": reidentification["k_anonymity"],
        "unique_share": reidentification["unique_share"],
        "subject": facts["subject"]["subject"],
        "subject_reasons": facts["subject"]["reasons"],
        "person_identifiers": [p["column"] for p in facts["person_identifiers"]],
        "birth_date_groups": [g["columns"] for g in facts["birth_date_groups"]],
    }
    if reidentification["min_k_anonymity"] is not None:
        summary["min_k_anonymity"] = reidentification["min_k_anonymity"]
        summary["below_min_k_anonymity"] = too_identifiable
    details = {
        "columns": report,
        "reidentification": reidentification,
        "repeated_columns": repeats,
        "table": facts,
        "method": {
            "rate": "share of non-empty cells holding the entity",
            "prescreen": f"every row of every column, by RE2 patterns (chunks of {chunk_rows} rows)",
            "sample_per_prescreen": sample_size,
            "first_look": f"{FIRST_LOOK} sampled candidates; the rest only when they are mixed",
            "ner_sample": ner_sample_size,
            "estimate": "candidates x validated share of a uniform sample; "
            "exact when every candidate was sampled",
            "value_evidence": "a uniform sample of each column (names by dictionary, addresses, postcodes, "
            "coordinates, dates of birth), weighed with the column name",
            "allowed_entities": sorted(allowed),
            "custom_recognizers": [c.name for c in customs],
        },
    }
    return CheckResult(check=CHECK, status=status, summary=summary, details=details)
