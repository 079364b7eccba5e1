"""A recorded check's duration is its whole runner (read, check, evidence extras such as fairness's
explanation), not only the part a check function times itself; and skops imports without flooding
an Airflow task's log with Airflow's deprecation warnings."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

from govflow.checks import CheckResult
from govflow.policy import load_policy
from govflow.service import check_table
from govflow.service.pipeline import check_on_data
from tests._helpers import version_inputs


def test_duration_covers_the_whole_runner(tmp_path, monkeypatch):
    data = tmp_path / "batch.csv"
    data.write_text("a,b\n1,2\n")

    def runner(path, inputs, policy):
        time.sleep(0.2)  # e.g. the explanation a fairness runner adds after its timed check
        return CheckResult("drift", "pass", summary={"columns": 2}, duration_s=0.001)

    table = check_table.checks()  # one dict per registry state: patching it patches the table
    monkeypatch.setitem(table, "drift", replace(table["drift"], run=runner))
    inputs = version_inputs(str(data))
    result, sha = check_on_data("drift", inputs, data=str(data), policy=load_policy())
    assert result.summary == {"columns": 2} and sha
    assert result.duration_s >= 0.2


QUIET_IMPORT = """
import warnings
import airflow.utils.timezone, airflow.utils.trigger_rule, airflow.serialization.serde  # a task's shims
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {how}
print(len(caught))
"""


def _warnings_on_import(how: str) -> int:
    code = QUIET_IMPORT.format(how=how)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


def test_skops_imports_without_warning_once_per_probed_module():
    # The plain import warns hundreds of times next to Airflow (if it stops, this test says so).
    assert _warnings_on_import("import skops.io") > 100
    quiet = "from govflow.checks.model_predictions import skops_io; skops_io()"
    assert _warnings_on_import(quiet) == 0
