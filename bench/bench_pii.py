"""Benchmark: govflow's PII scan vs. Presidio's BatchAnalyzerEngine over every cell.

    python bench/bench_pii.py                      # 200,000 rows x 20 columns, + a 1,000,000-row memory run
    python bench/bench_pii.py --rows 20000 --baseline-rows 100 --memory-rows 0   # quick

Prints, from one run: cells/s of the govflow scan and of the naive baseline (Presidio's
default engine with the scan's recognizer edits, ``_engine.default_engine``: every English
recognizer and the whole spaCy pipeline, BatchAnalyzerEngine.analyze_dict over every cell of
a random row sample, extrapolated to the whole table), their ratio (required >= 100x),
column-level precision and recall against the generator's truth (required >= 0.95),
the same per entity and overall on the labelled real-world corpus
(tests/fixtures/pii/corpus, bench/pii_corpus.py; required >= 0.95), with the naive
baseline's on the same corpus, and the scan's peak memory (RSS), also on a 5x larger
file to show it stays bounded.
Real tables (bench/pii_real: 17 published tables, labelled by hand, sha256-pinned) are
scored apart from the generated ones: per table, with every miss and false alarm, the
development tables and the held-out ones separately, plus "is this column a direct
identifier"; and the whole process (model load + every real table) against the naive
per-cell baseline's whole process (its per-cell rate on a row sample of each table).

    python bench/bench_pii.py --real-only          # just the real tables
The table comes from bench/pii_data.py (Faker, 7 locales) and is cached in --workdir.
Each scan runs in a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pii_corpus  # noqa: E402
import pii_data  # noqa: E402

REQUIRED_SPEEDUP = 100
REQUIRED_ACCURACY = 0.95


def _table(rows: int, seed: int, workdir: Path) -> Path:
    path = workdir / f"pii_{rows}_{seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp.csv")
        pii_data.write(rows, tmp, seed)
        tmp.rename(path)
        print(f"generated {path} in {time.perf_counter() - started:.0f} s")
    return path


def _repeated(path: Path, times: int) -> Path:
    """The same table ``times`` over (for the memory run): bytes appended, no re-generation."""
    out = path.with_name(f"{path.stem}_x{times}.csv")
    if not out.exists():
        with path.open("rb") as src:
            header, body = src.readline(), src.read()
        with out.open("wb") as dst:
            dst.write(header)
            for _ in range(times):
                dst.write(body)
    return out


def _peak_rss_mb() -> float:
    """This process's peak RSS. Linux's VmHWM is this address space's own; ``ru_maxrss`` also keeps
    the parent's high-water mark from before exec (a child started by a parent that holds the naive
    baseline's 600 MB reported 635 MB for a 340 MB scan)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_scan(path: str) -> None:
    """Run in a child process: load the engine, scan, print timings, peak RSS and the verdicts."""
    from govflow.checks.pii import scan_pii
    from govflow.checks.pii._engine import analyzer_engine

    started = time.perf_counter()
    analyzer_engine()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    result = scan_pii(path)
    scan_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "load_s": load_s,
                "scan_s": scan_s,
                "status": result.status,
                "errors": result.errors,
                "rows": result.summary.get("rows"),
                "peak_rss_mb": _peak_rss_mb(),
                "columns": {
                    c: sorted(info["entities"]) for c, info in result.details.get("columns", {}).items()
                },
            }
        )
    )


def _scan_in_child(path: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child-scan", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"scan of {path} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _baseline(
    path: Path, total_rows: int, sample_rows: int, seed: int
) -> tuple[float, int, dict[str, set[str]]]:
    """Presidio's BatchAnalyzerEngine over every cell of a random row sample:
    seconds, cells, naive verdicts."""
    import pandas as pd
    from presidio_analyzer import BatchAnalyzerEngine

    from govflow.checks.pii._engine import LANGUAGE, default_engine

    chosen = set(random.Random(seed).sample(range(1, total_rows + 1), sample_rows))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, skiprows=lambda i: i > 0 and i not in chosen)
    batch = BatchAnalyzerEngine(default_engine())
    started = time.perf_counter()
    results = list(batch.analyze_dict(frame.to_dict(orient="list"), language=LANGUAGE))
    elapsed = time.perf_counter() - started
    # The naive column verdict: an entity any cell reports with a usual threshold.
    naive = {
        r.key: {
            f.entity_type
            for cell in r.recognizer_results
            for f in cell
            if f.score >= (0.4 if f.entity_type == "PHONE_NUMBER" else 0.5)
        }
        for r in results
    }
    return elapsed, frame.size, naive


def _accuracy(found: dict[str, set[str]]) -> tuple[float, float, float, float]:
    """Precision/recall over (column, entity) pairs, and over PII yes/no per column."""
    truth = {(c, e) for c, es in pii_data.TRUTH.items() for e in es}
    pairs = {(c, e) for c, es in found.items() for e in es}
    tp = len(pairs & truth)
    precision = tp / len(pairs) if pairs else 1.0
    recall = tp / len(truth)
    pii_true = {c for c, es in pii_data.TRUTH.items() if es}
    pii_found = {c for c, es in found.items() if es}
    col_precision = len(pii_found & pii_true) / len(pii_found) if pii_found else 1.0
    col_recall = len(pii_found & pii_true) / len(pii_true)
    return precision, recall, col_precision, col_recall


CORPUS = HERE.parent / "tests" / "fixtures" / "pii" / "corpus"


def _corpus_pairs(verdicts: dict[str, dict[str, set[str]]]) -> tuple[set, set]:
    labels = pii_corpus.load_labels(CORPUS)
    truth = {(t, c, e) for t, lab in labels.items() for c, es in lab["columns"].items() for e in es}
    found = {(t, c, e) for t, cols in verdicts.items() for c, es in cols.items() for e in es}
    return found, truth


def _precision_recall(found: set, truth: set) -> tuple[float, float]:
    tp = len(found & truth)
    return (tp / len(found) if found else 1.0), (tp / len(truth) if truth else 1.0)


def _corpus_naive(tables: list[str]) -> dict[str, dict[str, set[str]]]:
    """The naive column verdict on the corpus: Presidio over every cell, any entity any cell reports."""
    import pandas as pd
    from presidio_analyzer import BatchAnalyzerEngine

    from govflow.checks.pii._engine import LANGUAGE, default_engine

    batch = BatchAnalyzerEngine(default_engine())
    out = {}
    for table in tables:
        frame = pd.read_csv(CORPUS / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.columns = list(pii_corpus.load_labels(CORPUS)[table]["columns"])  # the scan's keys for repeats
        results = batch.analyze_dict(frame.to_dict(orient="list"), language=LANGUAGE)
        out[table] = {
            r.key: {
                f.entity_type
                for cell in r.recognizer_results
                for f in cell
                if f.score >= (0.4 if f.entity_type == "PHONE_NUMBER" else 0.5)
            }
            for r in results
        }
    return out


def _corpus_report(naive: bool) -> tuple[float, float]:
    """Scan every corpus table; print per-entity and overall column-level precision/recall."""
    from govflow.checks.pii import scan_pii

    labels = pii_corpus.load_labels(CORPUS)
    verdicts, seconds, cells = {}, 0.0, 0
    for table in labels:
        started = time.perf_counter()
        result = scan_pii(CORPUS / f"{table}.csv")
        seconds += time.perf_counter() - started
        cells += result.summary["rows"] * result.summary["columns"]
        verdicts[table] = {c: set(info["entities"]) for c, info in result.details["columns"].items()}
    found, truth = _corpus_pairs(verdicts)
    n_cols = sum(len(lab["columns"]) for lab in labels.values())
    print(
        f"corpus: {len(labels)} tables, {n_cols} labelled columns, {len(truth)} (column, entity) labels; "
        f"scanned in {seconds:.1f} s ({cells / seconds:,.0f} cells/s)"
    )
    for entity in sorted({e for *_, e in truth | found}):
        p, r = _precision_recall({x for x in found if x[2] == entity}, {x for x in truth if x[2] == entity})
        n = sum(1 for x in truth if x[2] == entity)
        print(f"  {entity:<15} precision {p:.3f} recall {r:.3f} ({n} labelled columns)")
    p, r = _precision_recall(found, truth)
    print(f"corpus accuracy, (column, entity) pairs: precision {p:.3f} recall {r:.3f} (required >= 0.95)")
    for miss in sorted(truth - found):
        print(f"  missed {miss}")
    for alarm in sorted(found - truth):
        print(f"  false alarm {alarm}")
    for table, lab in labels.items():
        print(f"  {table}: quasi-identifiers {lab['quasi_identifiers'] or 'none'}")
    if naive:
        started = time.perf_counter()
        naive_verdicts = _corpus_naive(list(labels))
        naive_s = time.perf_counter() - started
        np_, nr = _precision_recall(*_corpus_pairs(naive_verdicts))
        print(
            f"naive baseline on the corpus (every cell, any entity): precision {np_:.3f} recall {nr:.3f}; "
            f"{naive_s:.0f} s ({cells / naive_s:,.0f} cells/s): govflow {naive_s / seconds:,.0f}x faster "
            "on these small tables (fixed per-column costs dominate; the per-cell ratio is the big table's)"
        )
    return p, r


REAL = HERE / "pii_real"
DIRECT = frozenset({"PERSON", "PERSON_ID", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "UK_NINO", "IBAN_CODE"})


def _real_labels() -> dict:
    """The real tables' labels, after checking every file against the pinned sha256."""
    import hashlib

    manifest = json.loads((REAL / "MANIFEST.json").read_text(encoding="utf-8"))
    for table, entry in manifest.items():
        digest = hashlib.sha256((REAL / entry["file"]).read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            sys.exit(f"{table}: sha256 {digest} does not match the manifest")
    return json.loads((REAL / "labels.json").read_text(encoding="utf-8"))["tables"]


def _child_real() -> None:
    """Run in a child process: load the engine, scan every real table; verdicts and timings."""
    from govflow.checks.pii import scan_pii
    from govflow.checks.pii._engine import analyzer_engine

    started, cpu_started = time.perf_counter(), time.process_time()
    analyzer_engine()
    out: dict = {"load_s": time.perf_counter() - started, "tables": {}}
    for table in _real_labels():
        began = time.perf_counter()
        result = scan_pii(REAL / f"{table}.csv")
        out["tables"][table] = {
            "seconds": time.perf_counter() - began,
            "cells": result.summary["rows"] * result.summary["columns"],
            "subject": result.summary["subject"],
            "columns": {c: sorted(i["entities"]) for c, i in result.details["columns"].items()},
        }
    out["process_s"] = time.perf_counter() - started
    out["process_cpu_s"] = time.process_time() - cpu_started
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


def _real_naive_rate(labels: dict, sample_rows: int, seed: int) -> tuple[float, float, int, float, float]:
    """Naive baseline on the real tables: engine load seconds, seconds a cell (Presidio's
    BatchAnalyzerEngine over every cell of ``sample_rows`` random rows of each table), cells,
    and the same two in CPU seconds (a shared machine's load changes wall time, not CPU time)."""
    import pandas as pd
    from presidio_analyzer import BatchAnalyzerEngine

    from govflow.checks.pii._engine import LANGUAGE, default_engine

    started, cpu_started = time.perf_counter(), time.process_time()
    batch = BatchAnalyzerEngine(default_engine())
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    seconds, cpu_seconds, cells = 0.0, 0.0, 0
    for table in labels:
        frame = pd.read_csv(REAL / f"{table}.csv", dtype=str, keep_default_na=False)
        frame = frame.sample(n=min(sample_rows, len(frame)), random_state=seed)
        began, cpu_began = time.perf_counter(), time.process_time()
        list(batch.analyze_dict(frame.to_dict(orient="list"), language=LANGUAGE))
        seconds += time.perf_counter() - began
        cpu_seconds += time.process_time() - cpu_began
        cells += frame.size
    return load_s, seconds / cells, cells, load_cpu_s, cpu_seconds / cells


def _score(labels: dict, verdicts: dict, tables: list[str]) -> tuple[float, float, float, float, set, set]:
    """(column, entity) precision and recall, direct-identifier precision and recall, found, truth."""
    truth = {(t, c, e) for t in tables for c, lab in labels[t]["columns"].items() for e in lab["entities"]}
    found = {(t, c, e) for t in tables for c, es in verdicts[t]["columns"].items() for e in es}
    p, r = _precision_recall(found, truth)
    direct_truth = {(t, c) for t in tables for c, lab in labels[t]["columns"].items() if lab["direct"]}
    direct_found = {(t, c) for t in tables for c, es in verdicts[t]["columns"].items() if set(es) & DIRECT}
    dp, dr = _precision_recall(direct_found, direct_truth)
    return p, r, dp, dr, found, truth


def _print_differences(labels: dict, table: str, found: set, truth: set) -> None:
    for kind, pairs in (("missed", truth - found), ("false alarm", found - truth)):
        for _, column, entity in sorted(pairs):
            why = labels[table]["columns"][column].get("why", "")
            print(f"      {kind} {column} {entity}" + (f"  [label: {why}]" if why else ""))


def _real_report(naive_rows: int, seed: int) -> tuple[float, float, float]:
    """Scan the real tables in a child process; print accuracy (dev and held-out apart), per
    table, every miss and false alarm, and the whole-process speed-up. Returns dev P, dev R, speed-up."""
    labels = _real_labels()
    proc = subprocess.run(
        [sys.executable, __file__, "--child-real"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"real-table scan failed: {proc.stderr.strip().splitlines()[-1:]}")
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    verdicts = run["tables"]
    cells = sum(v["cells"] for v in verdicts.values())
    n_cols = sum(len(lab["columns"]) for lab in labels.values())
    print(
        f"real tables: {len(labels)} published tables, {n_cols} hand-labelled columns, {cells:,} cells; "
        f"whole process {run['process_s']:.1f} s ({run['load_s']:.1f} s model load), "
        f"peak RSS {run['peak_rss_mb']:.0f} MB"
    )
    dev = [t for t, lab in labels.items() if not lab["held_out"]]
    held = [t for t, lab in labels.items() if lab["held_out"]]
    for name, tables in (("development", dev), ("held-out", held)):
        p, r, dp, dr, _, _ = _score(labels, verdicts, tables)
        print(
            f"real {name} ({len(tables)} tables): (column, entity) precision {p:.3f} recall {r:.3f}; "
            f"direct identifier yes/no precision {dp:.3f} recall {dr:.3f}"
        )
        for table in tables:
            tp, tr, _, _, found, truth = _score(labels, verdicts, [table])
            print(
                f"  {table:<18} subject {verdicts[table]['subject']:<7} precision {tp:.3f} "
                f"recall {tr:.3f} ({len(truth)} labels)"
            )
            _print_differences(labels, table, found, truth)
    dev_p, dev_r, *_ = _score(labels, verdicts, dev)
    load_s, per_cell, sampled, load_cpu_s, per_cell_cpu = _real_naive_rate(labels, naive_rows, seed)
    naive_s = load_s + per_cell * cells
    speedup = naive_s / run["process_s"]
    print(
        f"naive baseline on the real tables, whole process: {load_s:.1f} s load + "
        f"{per_cell * 1e3:.2f} ms a cell (measured on {sampled:,} cells) x {cells:,} cells "
        f"= {naive_s:,.0f} s; govflow {run['process_s']:.1f} s -> {speedup:,.0f}x "
        f"(required >= {REQUIRED_SPEEDUP}x)"
    )
    naive_cpu_s = load_cpu_s + per_cell_cpu * cells
    print(
        f"  the same in CPU seconds (what other users of the machine do not change): naive "
        f"{load_cpu_s:.1f} s + {per_cell_cpu * 1e3:.2f} ms a cell = {naive_cpu_s:,.0f} s; govflow "
        f"{run['process_cpu_s']:.1f} s -> {naive_cpu_s / run['process_cpu_s']:,.0f}x"
    )
    return dev_p, dev_r, speedup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--baseline-rows", type=int, default=400, help="rows the naive baseline analyses")
    parser.add_argument(
        "--memory-rows", type=int, default=1_000_000, help="larger file for the memory run (0: skip)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "govflow-bench-pii")
    parser.add_argument("--no-corpus-baseline", action="store_true", help="skip naive Presidio on the corpus")
    parser.add_argument("--real-only", action="store_true", help="only the real tables (bench/pii_real)")
    parser.add_argument("--no-real", action="store_true", help="skip the real tables (generated ones only)")
    parser.add_argument(
        "--real-naive-rows", type=int, default=40, help="rows per real table the naive baseline analyses"
    )
    parser.add_argument("--child-scan", help=argparse.SUPPRESS)
    parser.add_argument("--child-real", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_scan:
        _child_scan(args.child_scan)
        return 0
    if args.child_real:
        _child_real()
        return 0
    real_ok = True
    if not args.no_real:
        real_p, real_r, real_speedup = _real_report(args.real_naive_rows, args.seed)
        real_ok = min(real_p, real_r) >= REQUIRED_ACCURACY and real_speedup >= REQUIRED_SPEEDUP
    if args.real_only:
        print("PASS" if real_ok else "FAIL")
        return 0 if real_ok else 1
    print("generated tables:")

    args.workdir.mkdir(parents=True, exist_ok=True)
    path = _table(args.rows, args.seed, args.workdir)
    n_cols = len(pii_data.TRUTH)
    cells = args.rows * n_cols
    print(
        f"table: {args.rows:,} rows x {n_cols} columns = {cells:,} cells, "
        f"{path.stat().st_size / 1e6:.0f} MB CSV, "
        f"locales {', '.join(pii_data.LOCALES)}"
    )

    scan = _scan_in_child(path)
    if scan["status"] == "error":
        sys.exit(f"scan errored: {scan['errors']}")
    ours = cells / scan["scan_s"]
    print(
        f"govflow scan_pii: {scan['scan_s']:.1f} s (+ {scan['load_s']:.1f} s one-time model load) "
        f"-> {ours:,.0f} cells/s; peak RSS {scan['peak_rss_mb']:.0f} MB"
    )

    base_s, base_cells, naive = _baseline(path, args.rows, args.baseline_rows, args.seed)
    theirs = base_cells / base_s
    print(
        f"baseline BatchAnalyzerEngine.analyze_dict, every cell: {args.baseline_rows} random rows = "
        f"{base_cells:,} cells in {base_s:.1f} s -> {theirs:,.0f} cells/s; "
        f"whole table extrapolated: {cells / theirs / 3600:.1f} h"
    )
    speedup = ours / theirs
    print(f"speed-up: {speedup:,.0f}x (required >= {REQUIRED_SPEEDUP}x)")

    found = {c: set(es) for c, es in scan["columns"].items()}
    p, r, cp, cr = _accuracy(found)
    print(
        f"govflow accuracy, (column, entity) pairs: precision {p:.3f} recall {r:.3f} "
        f"(required >= {REQUIRED_ACCURACY}); PII columns yes/no: precision {cp:.3f} recall {cr:.3f}"
    )
    for column in pii_data.TRUTH:
        if found.get(column, set()) != set(pii_data.TRUTH[column]):
            print(
                f"  {column}: found {sorted(found.get(column, ()))}, truth {sorted(pii_data.TRUTH[column])}"
            )
    np_, nr, ncp, ncr = _accuracy(naive)
    print(
        f"naive baseline accuracy on its sample (any cell, score >= 0.5): "
        f"precision {np_:.3f} recall {nr:.3f}; "
        f"PII columns yes/no: precision {ncp:.3f} recall {ncr:.3f}"
    )

    corpus_p, corpus_r = _corpus_report(naive=not args.no_corpus_baseline)

    if args.memory_rows:
        times = max(2, round(args.memory_rows / args.rows))
        big = _repeated(path, times)
        run = _scan_in_child(big)
        print(
            f"memory: {run['rows']:,} rows ({big.stat().st_size / 1e6:.0f} MB) -> "
            f"peak RSS {run['peak_rss_mb']:.0f} MB "
            f"in {run['scan_s']:.0f} s ({run['rows'] * n_cols / run['scan_s']:,.0f} cells/s); "
            f"{args.rows:,} rows -> {scan['peak_rss_mb']:.0f} MB"
        )

    ok = real_ok and speedup >= REQUIRED_SPEEDUP and min(p, r, corpus_p, corpus_r) >= REQUIRED_ACCURACY
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
