"""Benchmark: documents and evidence bundle of a version with a long history, govflow vs. the naive way.

A high-risk version re-checked nightly for ``--days`` days (drift and fairness
each night, each drift evidence carrying an HTML report of ``--report-kb`` KB,
as Evidently's do). Compares, on the same SQLite DB and artifact store:

- rendering the HTML documents: govflow (full evidence of the newest result per
  check only) vs. loading every result's evidence first (the naive context);
- exporting the bundle: govflow (files streamed into the zip one at a time) vs.
  reading every file into memory first and zipping them (``build_bundle``).

Prints time and peak Python memory (tracemalloc) of each, their ratios, and
whether both give the same documents / the same bundle files.

    python bench/bench_docs.py                       # 365 days, 200 KB reports
    python bench/bench_docs.py --days 30 --report-kb 50   # a quick run
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path


def measure(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, elapsed, peak


def setup(home: Path, days: int, report_kb: int) -> None:
    import datetime as dt

    from govflow.checks import CheckResult
    from govflow.service import docs, registry
    from govflow.service.checks import record_check_result
    from govflow.service.runs import ensure_run
    from govflow.store import ModelVersion, session_scope

    files = home / "files"
    files.mkdir()
    for name in ("train.csv", "eval.csv"):
        (files / name).write_text(f"{name}\n1,2\n")
    # A real non-executing artifact: the high tier accepts skops (or ONNX), never a pickle.
    import skops.io
    from sklearn.linear_model import LogisticRegression

    skops.io.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), files / "model.skops")
    report = "<html>" + "x" * (report_kb * 1024) + "</html>"
    groups = {
        g: {
            "count": 500 + i,
            "selection_rate": 0.2 + i / 100,
            "accuracy": 0.85,
            "true_positive_rate": 0.7,
            "false_positive_rate": 0.1,
            "false_negative_rate": 0.3,
        }
        for i, g in enumerate(["a", "b", "c"])
    }
    columns = {
        f"c{i:03d}": {
            "drifted": i % 17 == 0,
            "method": "wasserstein",
            "score": (i % 17) / 100,
            "threshold": 0.1,
        }
        for i in range(50)
    }
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with session_scope() as s:
        registry.register_model(
            s,
            name="bench",
            owner="o",
            risk_tier="high",
            actor="alice",
            team="t",
            use_case="u",
            business_goals=["g"],
            stakeholders=["R:reviewer:r@x.org"],
            regions=["EU"],
            sector="finance",
            data_protection_notes="n",
            batches_uri="/b",
        )
        row = registry.register_version(
            s,
            model="bench",
            version="1",
            artifact=files / "model.skops",
            training_data=files / "train.csv",
            reference_data=files / "train.csv",
            eval_data=files / "eval.csv",
            code_version="c",
            framework="sklearn",
            params={"algorithm": "lr", "C": 1},
            metrics={"accuracy": 0.8},
            actor="alice",
        )
        version_id, data_sha = row.id, row.training_data_sha256
    for day in range(days):
        with session_scope() as s:
            row = s.get(ModelVersion, version_id)
            run = ensure_run(
                s, dag_id="nightly_compliance", run_id=f"scheduled__{day}", trigger_kind="schedule"
            )
            for result in (
                CheckResult(
                    "drift",
                    "pass",
                    {"share_drifted": 0.06, "drifted_columns": ["c000"]},
                    {"columns": columns, "html_report": {"html": report}},
                    library_versions={"evidently": "0.7"},
                ),
                CheckResult(
                    "fairness",
                    "pass",
                    {"demographic_parity_difference": 0.02},
                    {"by_group": groups},
                    library_versions={"fairlearn": "0.15"},
                ),
            ):
                stored = record_check_result(s, version=row, run=run, result=result, data_sha256=data_sha)
                stored.created_at = start + dt.timedelta(days=day)
    with session_scope() as s:
        docs.record_notes(s, "bench", "1", "limitations: [l]\n", actor="alice")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--report-kb", type=int, default=200)
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="govflow-bench-docs-"))
    os.environ["GOVFLOW_HOME"] = str(home)
    os.environ.pop("GOVFLOW_DB_URL", None)

    from dataclasses import replace

    import govflow.service.docs as service
    import govflow.service.evidence_bundle as bundle_service
    from govflow.docs import build_context, render_documents
    from govflow.docs.bundle import write_bundle
    from govflow.policy import load_policy
    from govflow.service.checks import load_evidence
    from govflow.service.registry import get_version
    from govflow.store import CheckResultRow, session_scope

    started = time.perf_counter()
    setup(home, args.days, args.report_kb)
    print(
        f"setup: {args.days} nights x 2 checks, {args.report_kb} KB drift reports, "
        f"{time.perf_counter() - started:.1f} s"
    )
    policy = load_policy()

    def govflow_render():
        with session_scope() as s:
            row = get_version(s, "bench", "1")
            return render_documents(build_context(service.gather_inputs(s, row, policy=policy)), fmt="html")

    def naive_render():
        with session_scope() as s:
            row = get_version(s, "bench", "1")
            inputs = service.gather_inputs(s, row, policy=policy)
            evidence = {r.id: load_evidence(r) for r in s.query(CheckResultRow).filter_by(version_id=row.id)}
            full = replace(
                inputs, check_results=[{**r, "evidence": evidence[r["id"]]} for r in inputs.check_results]
            )
            return render_documents(build_context(full), fmt="html")

    govflow_render()  # warm-up: engine, migrations check, template compilation
    ours, t_ours, m_ours = measure(govflow_render)
    naive, t_naive, m_naive = measure(naive_render)
    print(
        f"render html: govflow {t_ours:.2f} s, {m_ours / 2**20:.1f} MiB peak | naive {t_naive:.2f} s, "
        f"{m_naive / 2**20:.1f} MiB peak | speed-up {t_naive / t_ours:.1f}x, "
        f"memory {m_naive / m_ours:.1f}x less | "
        f"same documents: {ours == naive}"
    )

    def export(path: Path):
        with session_scope() as s:
            return bundle_service.export_evidence_bundle(s, "bench", "1", path, actor="bench", policy=policy)

    def in_memory_write(handle, files, manifest, **options):  # the naive writer: every file read first
        loaded = [(name, read()) for name, read in files]
        return write_bundle(
            handle, [(name, (lambda data=data: data)) for name, data in loaded], manifest, **options
        )

    export(home / "warm-up.zip")
    streamed, t_stream, m_stream = measure(lambda: export(home / "streamed.zip"))
    bundle_service.write_bundle = in_memory_write
    try:
        _buffered, t_buffer, m_buffer = measure(lambda: export(home / "buffered.zip"))
    finally:
        bundle_service.write_bundle = write_bundle

    def members(path: Path) -> dict[str, int]:
        with zipfile.ZipFile(path) as archive:
            return {i.filename: i.CRC for i in archive.infolist() if not i.filename.startswith("manifest.")}

    size = (home / "streamed.zip").stat().st_size
    print(
        f"export bundle ({streamed['files']} files, {size / 2**20:.1f} MiB zip): govflow {t_stream:.2f} s, "
        f"{m_stream / 2**20:.1f} MiB peak | in-memory {t_buffer:.2f} s, {m_buffer / 2**20:.1f} MiB peak | "
        f"time {t_buffer / t_stream:.2f}x, memory {m_buffer / m_stream:.1f}x less | "
        f"same files: {members(home / 'streamed.zip') == members(home / 'buffered.zip')}"
    )
    print(f"state kept in {home} (delete it when done)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
