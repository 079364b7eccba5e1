"""Flags and helpers shared by command modules."""

from __future__ import annotations

import argparse

from govflow.access import Identity, cli_identity
from govflow.store.audit import set_acting_auth


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


def identity_of(args: argparse.Namespace) -> Identity:
    """The proven actor of a direct-database command: the OS user (``--as`` others only in dev mode).

    Every audit event the command writes records how that actor was authenticated."""
    identity = cli_identity(getattr(args, "actor", None))
    set_acting_auth(identity.auth_method)
    return identity


def actor_of(args: argparse.Namespace, *, required: bool = False) -> str:
    """The acting user's name (see ``identity_of``); ``required`` is accepted for old callers."""
    return identity_of(args).name
