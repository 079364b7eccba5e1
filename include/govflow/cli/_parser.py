"""The CLI's argument parser: usage errors are one line and exit status 2."""

from __future__ import annotations

import argparse

from govflow.errors import GovflowError

__all__ = ["Parser", "UsageError"]


class UsageError(GovflowError):
    exit_code = 2


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")
