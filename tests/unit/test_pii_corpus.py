"""Column-level precision and recall on the labelled corpus (tests/fixtures/pii/corpus, 11 tables
from bench/pii_corpus.py: real UCI Adult and plotly tables, generated real-world-shaped ones)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govflow.checks.pii import scan_pii

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "corpus"
LABELS = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
REQUIRED = 0.95


@pytest.fixture(scope="module")
def results():
    return {table: scan_pii(CORPUS / f"{table}.csv") for table in LABELS}


def _pairs(results) -> tuple[set, set]:
    found, truth = set(), set()
    for table, labels in LABELS.items():
        columns = results[table].details["columns"]
        assert set(columns) == set(labels["columns"]), table  # every column, repeats included, is labelled
        for column, entities in labels["columns"].items():
            truth |= {(table, column, e) for e in entities}
            found |= {(table, column, e) for e in columns[column]["entities"]}
    return found, truth


def test_the_corpus_has_at_least_eight_labelled_tables():
    assert len(LABELS) >= 8
    assert sum(len(t["columns"]) for t in LABELS.values()) > 80


def test_column_level_precision_and_recall_at_least_095(results):
    found, truth = _pairs(results)
    tp = len(found & truth)
    precision, recall = tp / len(found), tp / len(truth)
    assert precision >= REQUIRED and recall >= REQUIRED, (
        f"precision {precision:.3f} recall {recall:.3f}; "
        f"false alarms {sorted(found - truth)[:8]}, missed {sorted(truth - found)[:8]}"
    )


def test_every_entity_kind_in_the_labels_is_found_somewhere(results):
    found, truth = _pairs(results)
    for entity in {e for _, _, e in truth}:
        mine = {p for p in truth if p[2] == entity}
        assert len(mine & found) / len(mine) >= 0.8, entity


def test_quasi_identifiers_are_the_labelled_ones(results):
    for table, labels in LABELS.items():
        assert results[table].summary["quasi_identifiers"] == labels["quasi_identifiers"], table
        if labels["quasi_identifiers"]:
            assert results[table].summary["k_anonymity"] >= 1
            assert 0.0 <= results[table].summary["unique_share"] <= 1.0
        else:
            assert results[table].summary["k_anonymity"] is None
