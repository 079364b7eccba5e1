"""govflow's Airflow DAGs (governance_gate, nightly_compliance) from the installed package."""

from govflow.dags.governance_gate import dag as governance_gate  # noqa: F401
from govflow.dags.nightly_compliance import dag as nightly_compliance  # noqa: F401
