"""`govflow login` / `govflow logout`: an Airflow token for acting through the Governance API.

govflow login --user rita [--url URL] [--password-stdin]
govflow approve --model M --version V --comment TEXT --api     (as the logged-in user)
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from govflow import api_session
from govflow.cli._output import emit


def register(groups: argparse._SubParsersAction) -> None:
    login = groups.add_parser(
        "login",
        help="get an Airflow token (POST /auth/token) and keep it in a 0600 file for --api commands",
    )
    login.add_argument("--user", required=True, help="your Airflow user name")
    login.add_argument(
        "--url", help=f"Airflow api-server (default $GOVFLOW_AIRFLOW_URL, else {api_session.DEFAULT_URL})"
    )
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (default: $GOVFLOW_AIRFLOW_PASSWORD, else a prompt)",
    )
    login.set_defaults(handler=_login)
    logout = groups.add_parser("logout", help="delete the saved Airflow token")
    logout.set_defaults(handler=_logout)


def _login(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("GOVFLOW_AIRFLOW_URL") or api_session.DEFAULT_URL
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("GOVFLOW_AIRFLOW_PASSWORD") or getpass.getpass(
            f"Airflow password for {args.user}: "
        )
    session, path = api_session.login(url, args.user, password)
    emit(
        {"url": session.url, "user": session.user, "token_file": str(path)},
        as_json=False,
        lines=[f"logged in to {session.url} as {session.user}; token saved to {path} (mode 0600)"],
    )
    return 0


def _logout(args: argparse.Namespace) -> int:
    path = api_session.logout()
    print(f"logged out; {path} removed")
    return 0
