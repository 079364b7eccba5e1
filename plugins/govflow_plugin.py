from govflow.airflow_plugin import GovflowPlugin  # noqa: F401 - the plugin lives in the package
