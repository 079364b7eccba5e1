"""govflow's DAG definitions, importable from the installed package.

A deployment's DAG folder needs only ``dags/govflow_dags.py`` (what ``govflow init``
writes, and this repository's own ``dags/``)::

    from govflow.dags.governance_gate import dag as governance_gate
    from govflow.dags.nightly_compliance import dag as nightly_compliance

Airflow finds the two DAG objects among that file's globals; their code and docs
stay in the package, so upgrading govflow upgrades the DAGs.
"""

DAG_FILE = '''"""govflow's Airflow DAGs (governance_gate, nightly_compliance) from the installed package."""

from govflow.dags.governance_gate import dag as governance_gate  # noqa: F401
from govflow.dags.nightly_compliance import dag as nightly_compliance  # noqa: F401
'''
