"""Who runs a direct-database command: the proven actor, and how its audit events record it."""

from __future__ import annotations

import argparse

from govflow.access import Identity, cli_identity
from govflow.store.audit import set_acting_auth


def identity_of(args: argparse.Namespace) -> Identity:
    """The proven actor of a direct-database command: the OS user (``--as`` others only in dev mode).

    Every audit event the command writes records how that actor was authenticated."""
    identity = cli_identity(getattr(args, "actor", None))
    set_acting_auth(identity.auth_method)
    return identity


def actor_of(args: argparse.Namespace, *, required: bool = False) -> str:
    """The acting user's name (see ``identity_of``); ``required`` is accepted for old callers."""
    return identity_of(args).name
