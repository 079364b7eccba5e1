"""Adapters to the systems around govflow (MLflow, OpenLineage): thin, lazily importing their libraries."""
