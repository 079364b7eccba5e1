"""Flags and helpers shared by command modules."""

from __future__ import annotations

import argparse
import getpass

from govflow import config


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def add_version_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True)
    parser.add_argument("--version", required=True)


def add_actor_flag(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    default = "$GOVFLOW_USER; one of the two is required" if required else "$GOVFLOW_USER, then the OS user"
    parser.add_argument("--as", dest="actor", metavar="USER", help=f"acting user (default: {default})")


def actor_of(args: argparse.Namespace, *, required: bool = False) -> str:
    """The acting user: ``--as``, else ``GOVFLOW_USER``, else (unless ``required``: approvals,
    waivers and promotions are never made by whoever happens to be logged in) the OS user."""
    if required:
        from govflow.access import resolve_actor

        return resolve_actor(getattr(args, "actor", None))
    return config.current_user(getattr(args, "actor", None)) or getpass.getuser()
