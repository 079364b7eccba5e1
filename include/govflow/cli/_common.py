"""Flags and helpers shared by command modules."""

from __future__ import annotations

import argparse
import getpass

from govflow import config


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def add_actor_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="actor", metavar="USER", help="acting user (default: $GOVFLOW_USER, then the OS user)")


def actor_of(args: argparse.Namespace) -> str:
    return config.current_user(getattr(args, "actor", None)) or getpass.getuser()
