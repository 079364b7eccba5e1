"""govflow: model governance as Apache Airflow 3 pipelines.

Importing the package is cheap on purpose: heavy libraries (Great
Expectations, Presidio, Evidently, Fairlearn) are imported inside the
adapters that use them, never here.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
