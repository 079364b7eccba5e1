"""`--out` means one thing: the file when one document is written, the folder when several are;
an ambiguous name is refused in one line (exit 2) before anything is rendered, stored or written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from govflow.cli import main
from govflow.store import AuditEvent, Document, session_scope

VERSION = ["--model", "m1", "--version", "1.0"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def version(db_url, sample_files, capsys):
    assert (
        run(
            capsys,
            "model",
            "register",
            "--name",
            "m1",
            "--owner",
            "Ana",
            "--risk-tier",
            "minimal",
            "--as",
            "alice",
        )[0]
        == 0
    )
    argv = ["version", "register", *VERSION, "--as", "alice", "--artifact", str(sample_files["artifact"])]
    assert run(capsys, *argv, "--training-data", str(sample_files["training"]))[0] == 0
    return sample_files


def _state() -> tuple[int, int]:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Document)), s.scalar(
            select(func.count()).select_from(AuditEvent)
        )


def _refused(capsys, tmp_path, *argv: str, hint: str) -> None:
    before, files = _state(), sorted(tmp_path.rglob("*"))
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("govflow: error: ") and hint in err, err
    assert _state() == before and sorted(tmp_path.rglob("*")) == files  # nothing stored, nothing written


def test_a_document_name_for_both_documents_is_refused_with_a_hint(version, capsys, tmp_path):
    card = tmp_path / "card.html"
    _refused(
        capsys,
        tmp_path,
        "docs", "render", *VERSION, "--format", "html", "--out", str(card),
        hint="add --kind model_card to write that one document",
    )  # fmt: skip
    assert not card.exists()


def test_both_documents_go_into_the_folder_and_the_command_says_so(version, capsys, tmp_path):
    folder = tmp_path / "docs"
    code, out, _ = run(capsys, "docs", "render", *VERSION, "--format", "html", "--out", str(folder))
    written = sorted(p.name for p in folder.iterdir())
    assert code == 0 and written == ["m1-1.0-annex_iv.html", "m1-1.0-model_card.html"]
    assert f"wrote 2 files into folder {folder}/: m1-1.0-model_card.html, m1-1.0-annex_iv.html" in out

    code, out, _ = run(capsys, "docs", "render", *VERSION, "--format", "md", "--out", str(folder), "--json")
    payload = json.loads(out)
    assert payload["out"] == {"type": "folder", "path": str(folder)}
    assert sorted(d["path"] for d in payload["documents"]) == [
        str(folder / "m1-1.0-annex_iv.md"),
        str(folder / "m1-1.0-model_card.md"),
    ]


def test_one_document_goes_to_the_file_named(version, capsys, tmp_path):
    card = tmp_path / "card.html"
    code, out, _ = run(
        capsys, "docs", "render", *VERSION, "--format", "html", "--kind", "model_card", "--out", str(card)
    )
    assert code == 0 and f"wrote file {card}" in out
    assert card.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_one_document_refuses_a_folder_or_the_wrong_extension(version, capsys, tmp_path):
    (tmp_path / "existing").mkdir()
    base = ["docs", "render", *VERSION, "--format", "md", "--kind", "annex_iv", "--out"]
    _refused(capsys, tmp_path, *base, str(tmp_path / "existing"), hint="is a folder, but one file is written")
    _refused(capsys, tmp_path, *base, str(tmp_path / "annex.html"), hint="ending in .md or .markdown")


def test_evidence_export_writes_the_zip_file_named_and_says_so(version, capsys, tmp_path):
    bundle = tmp_path / "bundle.zip"
    code, out, _ = run(capsys, "evidence", "export", *VERSION, "--out", str(bundle))
    assert code == 0 and bundle.is_file() and out.startswith(f"wrote file {bundle}: ")
    (tmp_path / "folder").mkdir()
    _refused(capsys, tmp_path, "evidence", "export", *VERSION, "--out", str(tmp_path / "folder"), hint=".zip")
    _refused(capsys, tmp_path, "evidence", "export", *VERSION, "--out", str(tmp_path / "b.html"), hint=".zip")


def test_suite_infer_and_drift_report_refuse_a_wrong_name_before_reading(capsys, tmp_path):
    missing = str(tmp_path / "does-not-exist.csv")  # never read: the name is refused first
    code, out, err = run(capsys, "suite", "infer", "--reference", missing, "--out", str(tmp_path / "s.html"))
    assert code == 2 and out == "" and "ending in .yaml, .yml or .json" in err
    (tmp_path / "reports").mkdir()
    argv = ["check", "drift", "--reference", missing, "--current", missing, "--html-report"]
    code, out, err = run(capsys, *argv, str(tmp_path / "reports"))
    assert code == 2 and out == "" and "--html-report" in err and "is a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_audit_checkpoint_and_keygen_take_one_file(db_url, capsys, tmp_path):
    (tmp_path / "folder").mkdir()
    code, out, err = run(capsys, "audit", "checkpoint", "--out", str(tmp_path / "folder"))
    assert code == 2 and out == "" and "ending in .json" in err
    code, out, err = run(capsys, "audit", "keygen", "--out", str(tmp_path / "key.txt"))
    assert code == 2 and "ending in .pem" in err and not (tmp_path / "key.txt").exists()
    code, out, _ = run(capsys, "audit", "keygen", "--out", str(tmp_path / "k.pem"))
    assert code == 0 and out.startswith(f"wrote files {tmp_path / 'k.pem'} (0600) and {tmp_path / 'k.pub'}")


def test_evidence_export_reports_its_progress(version, tmp_path):
    from govflow.service.evidence_bundle import export_evidence_bundle
    from govflow.store import session_scope as scope

    seen: list[tuple[str, int, int | None, str]] = []

    def record(stage, done, total=None, *, unit="rows", fraction=None):
        seen.append((stage, done, total, unit))

    with scope() as session:
        payload = export_evidence_bundle(
            session, "m1", "1.0", tmp_path / "b.zip", actor="alice", progress=record
        )
    rendering = [s for s in seen if s[0] == "evidence: rendering the documents"]
    assert rendering == [("evidence: rendering the documents", n, 2, "formats") for n in (0, 1, 2)]
    files = [s for s in seen if s[0] == "evidence: writing the bundle"]
    assert files[-1] == ("evidence: writing the bundle", payload["files"], payload["files"], "files")
    assert [s[1] for s in files] == list(range(1, payload["files"] + 1))
