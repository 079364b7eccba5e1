"""Settings from the environment, read when asked (never cached at import).

GOVFLOW_HOME        state folder: SQLite DB, artifacts. Unset: the nearest ``.govflow`` folder in the
                    working folder or one of its parents (as git finds ``.git``: inside the checkout
                    `make demo` ran in, the CLI reads the demo's state), else ~/.govflow
GOVFLOW_DB_URL      SQLAlchemy URL of the governance DB (default SQLite in GOVFLOW_HOME)
GOVFLOW_ARTIFACTS   artifact store root, a folder or fsspec URL (default GOVFLOW_HOME/artifacts)
GOVFLOW_POLICY      policy YAML (default: the bundled govflow/data/policies/default.yaml)
                    (these three also from Airflow: [govflow] in airflow.cfg, connections and
                    Variables; one precedence, in govflow.settings)
GOVFLOW_ROLES_FILE  the deployment's users-and-roles YAML (operator-owned; never read from GOVFLOW_HOME)
GOVFLOW_DEV_MODE    1: demos and tests only (the CLI may act as --as/GOVFLOW_USER, recorded as "dev";
                    the bundled demo users hold roles when no roles file is configured); refused
                    outright on a production deployment (see ``production``)
GOVFLOW_ENV         production: a production deployment whatever else is set (so is one with PostgreSQL
                    or a configured key: no value declares those away, see ``production_reason``)
GOVFLOW_OPERATOR_UID / GOVFLOW_SERVICE_UID  who may / may never own the roles file and trusted keys
                    (govflow.ownership)
GOVFLOW_USER        dev mode only: the acting user for the CLI when --as is not given
GOVFLOW_HEAVY_QUEUE Celery queue of the heavy DAG tasks (PII, fairness, explain); unset: Airflow's default
GOVFLOW_DECISION_QUEUE  Celery queue of the DAG tasks that sign with the decision key (register, gate,
                    finish, reconcile, nightly's summary), served by workers that hold that key and run
                    no check; unset: Airflow's default (one worker pool holds every key)
GOVFLOW_NIGHTLY_PARALLELISM  how many groups nightly_compliance packs the due models into (default 8):
                    each group is one task (three with a heavy queue), so set it to about the worker slots
"""

from __future__ import annotations

import datetime as dt
import os
from contextvars import ContextVar
from pathlib import Path

from govflow import data, sealing, settings
from govflow.errors import BadInputError


def home() -> Path:
    explicit = os.environ.get("GOVFLOW_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return project_folder(".govflow") or Path.home() / ".govflow"


def airflow_home() -> Path | None:
    """AIRFLOW_HOME, else the nearest project ``.airflow`` folder (`make demo`/`make up`'s), else None."""
    explicit = os.environ.get("AIRFLOW_HOME")
    if explicit:
        return Path(explicit).expanduser()
    return project_folder(".airflow")


def project_folder(name: str, start: Path | None = None) -> Path | None:
    """The folder ``name`` in ``start`` (default: the working folder) or its nearest parent that has one."""
    try:
        here = (start or Path.cwd()).resolve()
    except OSError:  # the working folder was deleted under us: no project to find
        return None
    for folder in (here, *here.parents):
        if (folder / name).is_dir():
            return folder / name
    return None


# True while a command that only reads (or acts on what is registered) runs: a missing SQLite
# governance DB is then an error, never a new empty one (govflow.store._db.make_engine).
EXISTING_STATE_ONLY: ContextVar[bool] = ContextVar("govflow_existing_state_only", default=False)
ERR_NO_STATE = (
    "no governance DB at {path}: run `make demo` or `govflow init` first, run govflow inside the "
    "project folder that has the .govflow folder, or set GOVFLOW_HOME"
)


def db_url() -> str:
    url = settings.db_url()
    if url:
        return url
    return f"sqlite:///{home() / 'govflow.db'}"


def artifacts_root() -> str:
    return settings.artifacts() or str(home() / "artifacts")


def policy_path() -> Path:
    return Path(settings.policy() or data.default_policy())


ERR_DEV_MODE_IN_PRODUCTION = (
    "GOVFLOW_DEV_MODE=1 is refused on a production deployment ({why}): unset it; people act through "
    "the Governance API (`govflow login`, then --api)"
)
PRODUCTION_KEY_VARIABLES = (
    "GOVFLOW_SIGNING_KEY",
    "GOVFLOW_SIGNING_KEY_FILE",
    "GOVFLOW_SIGNING_KEY_VARIABLE",
    "GOVFLOW_CHECK_SIGNING_KEY",
    "GOVFLOW_CHECK_SIGNING_KEY_FILE",
)


def production_reason() -> str | None:
    """Why this is a production deployment, or None.

    ``GOVFLOW_ENV=production``, a configured signing key or a PostgreSQL governance DB. Nothing
    declares these away: ``GOVFLOW_ENV=development`` is an environment variable anyone with a shell
    sets, so it overrides no signal (a test machine with PostgreSQL is a production deployment).
    """
    if os.environ.get("GOVFLOW_ENV", "").strip().lower() == "production":
        return "GOVFLOW_ENV=production"
    for name in PRODUCTION_KEY_VARIABLES:
        if sealing.get(name):  # an inline key seal_process moved out of os.environ still counts
            return f"a signing key is configured ({name})"
    if settings.signing_key_file():  # [govflow] signing_key_file: AIRFLOW__GOVFLOW__..., airflow.cfg
        return "a signing key is configured ([govflow] signing_key_file)"
    # Only the embedded SQLite DB is a demo's; any server DB (PostgreSQL, whatever its URL's spelling)
    # is a deployment's.
    backend = db_url().split(":", 1)[0].split("+", 1)[0].strip().lower()
    if backend != "sqlite":
        return (
            "the governance DB is PostgreSQL"
            if backend.startswith("postgres")
            else "the governance DB is a server"
        )
    return None


def production() -> bool:
    return production_reason() is not None


def dev_mode() -> bool:
    """Whether ``GOVFLOW_DEV_MODE=1``; on a production deployment that is an error, never a mode."""
    if os.environ.get("GOVFLOW_DEV_MODE") != "1":
        return False
    why = production_reason()
    if why is not None:
        raise BadInputError(ERR_DEV_MODE_IN_PRODUCTION.format(why=why))
    return True


def demo_roles_path() -> Path:
    return data.demo_users()


def roles_path() -> Path | None:
    """The roles file the operator configured; the bundled demo users in dev mode; else none."""
    explicit = os.environ.get("GOVFLOW_ROLES_FILE")
    if explicit:
        return Path(explicit)
    return demo_roles_path() if dev_mode() else None


def heavy_queue() -> dict[str, str]:
    """Operator kwargs for a task that loads the big libraries (a family declares ``heavy``):
    ``{"queue": GOVFLOW_HEAVY_QUEUE}`` when that is set (the Celery stack), else nothing
    (Airflow's default queue; LocalExecutor runs are unaffected)."""
    return _queue("GOVFLOW_HEAVY_QUEUE")


def decision_queue() -> dict[str, str]:
    """Operator kwargs for a task that records decisions (signs with the decision key):
    ``{"queue": GOVFLOW_DECISION_QUEUE}`` when that is set, else nothing. Workers serving the other
    queues then hold only the check-result key, so the code that parses submitted data or loads
    a model artifact runs where nothing can approve, promote or apply a policy."""
    return _queue("GOVFLOW_DECISION_QUEUE")


def _queue(variable: str) -> dict[str, str]:
    queue = os.environ.get(variable)
    return {"queue": queue} if queue else {}


DEFAULT_NIGHTLY_PARALLELISM = 8


def nightly_parallelism(explicit: str | int | None = None) -> int:
    """How many groups (tasks per check) nightly_compliance spreads the due models over.

    ``explicit`` (an Airflow Variable's value) wins over ``GOVFLOW_NIGHTLY_PARALLELISM``; a value that
    is not a positive integer is a configuration mistake, reported in one line.
    """
    return _positive_int("GOVFLOW_NIGHTLY_PARALLELISM", explicit, DEFAULT_NIGHTLY_PARALLELISM)


DEFAULT_NIGHTLY_WRITE_MODELS = 50


def nightly_write_models() -> int:
    """How many models' results a nightly task writes in one transaction (``GOVFLOW_NIGHTLY_WRITE_MODELS``):
    fewer commits and trail locks the more, and the more checks a crash mid-batch makes a retry run
    again (50 models is about half a minute of checks here)."""
    return _positive_int("GOVFLOW_NIGHTLY_WRITE_MODELS", None, DEFAULT_NIGHTLY_WRITE_MODELS)


def _positive_int(name: str, explicit: str | int | None, default: int) -> int:
    raw = explicit if explicit not in (None, "") else os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value < 1:
        raise BadInputError(f"{name} must be a positive integer, not {raw!r}")
    return value


def task_retry_delay(default_seconds: float) -> dt.timedelta:
    """How long a failed govflow DAG task waits before its retry: ``GOVFLOW_TASK_RETRY_DELAY_SECONDS``
    (read when the DAG file is parsed), else the DAG's default. An outage (DB restart, store down)
    needs the default's patience; a throwaway test stack recovers in seconds."""
    raw = os.environ.get("GOVFLOW_TASK_RETRY_DELAY_SECONDS")
    if raw in (None, ""):
        return dt.timedelta(seconds=default_seconds)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise BadInputError(f"GOVFLOW_TASK_RETRY_DELAY_SECONDS must be a number of seconds >= 0, not {raw!r}")
    return dt.timedelta(seconds=value)
