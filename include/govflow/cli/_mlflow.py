"""`--from-mlflow URI` (`version register`, `submit`): the registration filled from MLflow."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from govflow import config
from govflow.errors import BadInputError
from govflow.service.mlflow_sync import registration_from_mlflow

_FIELDS = ("artifact", "training_data", "reference_data", "eval_data", "code_version", "framework")


def add_from_mlflow_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-mlflow",
        metavar="URI",
        help="models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN_ID/PATH on MLFLOW_TRACKING_URI: "
        "artifact, params, metrics, source commit and logged datasets come from MLflow (flags win)",
    )


@contextmanager
def registration(
    args: argparse.Namespace, *, params: dict[str, Any], metrics: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The ``register_version`` keyword arguments of the command; the MLflow download (if any)
    lives until the registration has copied the artifact into the store."""
    given = {name: getattr(args, name) for name in _FIELDS}
    given |= {"params": params, "metrics": metrics}
    if not args.from_mlflow:
        for name in ("artifact", "training_data"):
            if not given[name]:
                raise BadInputError(f"--{name.replace('_', '-')} is required (or give --from-mlflow URI)")
        yield given
        return
    cache = config.home() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="mlflow-") as tmp:
        yield registration_from_mlflow(args.from_mlflow, Path(tmp), given)
