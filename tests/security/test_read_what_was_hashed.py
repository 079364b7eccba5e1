"""A check judges exactly the bytes whose sha256 it records.

Before, the runner hashed the data file (a local path, or the worker's cached copy in the state
volume), and the check then opened the same path again: whoever could write there swapped the
file in between, and the check judged other rows under the registered sha256. Now the runner
copies each input into a private folder while hashing it, and the check reads the copy.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from govflow.checks import CheckResult
from govflow.hashing import sha256_file
from govflow.service import pipeline
from tests._helpers import version_inputs


def test_a_file_swapped_after_it_was_hashed_is_not_what_the_check_reads(tmp_path, monkeypatch):
    data = tmp_path / "batch.csv"
    data.write_text("x\n1\n")
    registered = sha256_file(data)
    seen: dict[str, object] = {}

    def run(path, inputs, policy):  # type: ignore[no-untyped-def]
        data.write_text("x\n999\n")  # the swap: after the runner hashed the file, before this read
        seen["bytes"] = Path(path).read_bytes()
        seen["private"] = Path(path).parent.parent
        return CheckResult(check="drift", status="pass")

    monkeypatch.setattr(pipeline, "check_spec", lambda name: SimpleNamespace(also_reads=(), run=run))
    result, data_sha = pipeline.check_on_data("drift", version_inputs(str(data)), data=str(data), policy=None)
    assert result.status == "pass"
    assert (seen["bytes"], data_sha) == (b"x\n1\n", registered)  # what was read is what was hashed
    assert not Path(str(seen["private"])).exists()  # the private copies are gone with the check


def test_a_registered_file_changed_before_the_copy_is_refused(tmp_path, monkeypatch):
    import dataclasses

    data = tmp_path / "batch.csv"
    data.write_text("x\n1\n")
    reference = tmp_path / "reference.csv"
    reference.write_text("x\n1\n")
    inputs = dataclasses.replace(
        version_inputs(str(reference)), sha256={str(reference): sha256_file(reference)}
    )
    reference.write_text("x\n2\n")  # changed since it was registered
    ran: list[str] = []
    monkeypatch.setattr(
        pipeline,
        "check_spec",
        lambda name: SimpleNamespace(also_reads=("reference_data",), run=lambda *a: ran.append("ran")),
    )
    result, _ = pipeline.check_on_data("drift", inputs, data=str(data), policy=None)
    assert result.status == "error" and not ran
    assert "registered reference data reference.csv no longer matches" in result.errors[0]


def test_the_model_file_is_hashed_where_it_is_read_not_copied(tmp_path, monkeypatch):
    """The artifact is not copied (its reader takes the bytes into memory once and checks their
    sha256 there): a file swapped before that read is refused, never loaded."""
    import dataclasses

    import pytest

    from govflow.checks import CheckInputError
    from govflow.policy import load_policy
    from govflow.service.check_runners import run_context

    data = tmp_path / "batch.csv"
    data.write_text("x\n1\n")
    artifact = tmp_path / "model.skops"
    artifact.write_bytes(b"registered bytes")
    inputs = dataclasses.replace(
        version_inputs(str(data)), artifact=str(artifact), artifact_sha256=sha256_file(artifact)
    )
    seen: dict[str, object] = {}

    def run(path, given, policy):  # type: ignore[no-untyped-def]
        seen["artifact"] = given.artifact
        artifact.write_bytes(b"swapped bytes")  # after the runner's look, before the model's read
        with pytest.raises(CheckInputError, match="no longer matches"):
            run_context(path, given, load_policy()).load_artifact(given.artifact, given.artifact_sha256)
        return CheckResult(check="fairness", status="pass")

    monkeypatch.setattr(
        pipeline, "check_spec", lambda name: SimpleNamespace(also_reads=("artifact",), run=run)
    )
    pipeline.check_on_data("fairness", inputs, data=str(data), policy=None)
    assert seen["artifact"] == str(artifact)  # no second copy of the model file
