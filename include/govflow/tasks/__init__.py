"""The bodies of the governance DAGs' tasks: each DAG task is one call into this package.

``gate``    governance_gate: resolve a version, run its checks, decide, ask reviewers, promote or reject
``nightly`` nightly_compliance: re-check production models on their newest data, verify the audit chain

Everything here takes and returns plain dicts (they travel through XCom) and is
safe to retry: a second run of a task finds what the first one stored.
"""
