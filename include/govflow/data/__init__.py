"""Files shipped inside the package: the bundled policy, the demo users and the expectation suites.

They are found through ``importlib.resources``, so they are there wherever govflow is
installed (a wheel in another team's Airflow, an editable checkout), never by a path
relative to a checkout. govflow is installed unzipped (pip, the Airflow images), so a
resource is a real file; a zipped install is refused with one line instead of a
``Path`` that does not exist.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from govflow.errors import GovflowError

__all__ = ["bundled", "default_policy", "demo_users", "suite"]


def bundled(relative: str) -> Path:
    """The packaged file ``relative`` (``policies/default.yaml``) as a path on disk."""
    resource = files(__name__).joinpath(*relative.split("/"))
    if not isinstance(resource, Path):
        raise GovflowError(f"govflow's data files must be on disk, not in {resource!r}: install it unzipped")
    return resource


def default_policy() -> Path:
    """The policy shipped with the code (applied automatically on first use)."""
    return bundled("policies/default.yaml")


def demo_users() -> Path:
    """The demo users and roles: used only in dev mode, when no roles file is configured."""
    return bundled("policies/users.yaml")


def suite(name: str) -> Path:
    """A bundled Great Expectations suite (``adult``)."""
    return bundled(f"suites/{name}.yaml")
