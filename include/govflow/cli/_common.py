"""Flags shared by command modules (light: the check commands import it; the acting identity of
a database command is in ``_identity``)."""

from __future__ import annotations

import argparse


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def add_version_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True)
    parser.add_argument("--version", required=True)


def add_actor_flag(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--as",
        dest="actor",
        metavar="USER",
        help="acting user: only your OS user, unless GOVFLOW_DEV_MODE=1 (demos, tests); "
        "act for a person with `govflow login` and --api",
    )
