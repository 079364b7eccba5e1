"""Which tasks run where the decision key is: the decision queue holds the tasks that sign decisions.

A split deployment (``GOVFLOW_DECISION_QUEUE``) gives its check workers only the
check-result key; a decision task routed to them would fail, and a check routed to
the decision workers would run untrusted input next to the key that approves.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUEUES = """
from govflow.dags.governance_gate import governance_gate
from govflow.dags.nightly_compliance import nightly_compliance

dags = (governance_gate(), nightly_compliance())
print(json.dumps({f"{d.dag_id}.{t.task_id}": t.queue for d in dags for t in d.tasks}))
"""


def _queues(tmp_path: Path, **env: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + textwrap.dedent(QUEUES)],
        capture_output=True,
        text=True,
        env=os.environ
        | {
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)]),
        }
        | env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_decision_tasks_go_to_the_decision_queue_and_checks_never_do(tmp_path):
    queues = _queues(tmp_path, GOVFLOW_DECISION_QUEUE="govern", GOVFLOW_HEAVY_QUEUE="heavy")
    govern = {task for task, queue in queues.items() if queue == "govern"}
    assert govern == {
        "governance_gate.resolve",
        "governance_gate.gate",
        "governance_gate.approval_requests",
        "governance_gate.finish",
        "governance_gate.notify",
        "governance_gate.reconcile",
        "nightly_compliance.summary",
        "nightly_compliance.reconcile_approvals",
    }
    # Everything that reads submitted data or loads an artifact stays with the check workers.
    for task in ("validation", "pii", "fairness", "drift", "performance", "mitigation", "documentation"):
        assert queues[f"governance_gate.{task}"] != "govern"
    assert not [t for t in queues if t.startswith("nightly_compliance.recheck.") and queues[t] == "govern"]


def test_without_a_decision_queue_every_task_keeps_airflows_default(tmp_path):
    queues = _queues(tmp_path)
    assert {q for t, q in queues.items() if not t.endswith((".pii", ".fairness"))} == {"default"}
