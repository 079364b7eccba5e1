"""`govflow db upgrade|current`."""

from __future__ import annotations

import argparse

from govflow import config, store
from govflow.cli._common import add_json_flag
from govflow.cli._output import emit


def register(groups: argparse._SubParsersAction) -> None:
    db = groups.add_parser("db", help="governance database schema")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    sub.required = True
    upgrade = sub.add_parser(
        "upgrade", help="apply migrations up to head (also done automatically on first use)"
    )
    upgrade.add_argument("--revision", default="head")
    add_json_flag(upgrade)
    upgrade.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    engine = store.get_engine(upgrade=False)
    store.upgrade_schema(engine, args.revision)
    url = engine.url.render_as_string(hide_password=True)
    emit(
        {"database": url, "revision": store.current_revision(engine), "default_url": config.db_url() == url},
        as_json=args.json,
        lines=[f"database {url} at revision {store.current_revision(engine)}"],
    )
    return 0
