"""Users, roles and permission checks.

Roles: ``viewer`` < ``data_scientist`` (register, submit) and ``reviewer``
(approve, waive); ``admin`` may do everything ``require_role`` guards.
Users map to roles in a YAML file (``config.users_path()``); the CLI takes the
actor from ``--as`` or ``GOVFLOW_USER``, the web app from Airflow's auth manager.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from govflow.errors import BadInputError, PermissionDeniedError
from govflow.vocab import ADMIN, ROLES


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]
    display_name: str = ""

    def has_any(self, roles: Iterable[str], *, admin_ok: bool = True) -> bool:
        wanted = set(roles)
        return bool(self.roles & wanted) or (admin_ok and ADMIN in self.roles)

    def describe(self) -> str:
        return f"{self.name} ({', '.join(sorted(self.roles)) or 'no role'})"


@dataclass(frozen=True)
class Directory:
    """The known users, by name."""

    users: Mapping[str, User] = field(default_factory=dict)
    source: str = "<memory>"

    def get(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise PermissionDeniedError(f"permission denied: unknown user {name!r} (not in {self.source})")
        return user

    @classmethod
    def from_mapping(cls, data: Mapping[str, Iterable[str]], *, source: str = "<memory>") -> Directory:
        """``{"alice": ["data_scientist"], ...}``: handy for tests and the web app."""
        users = {name: User(name=name, roles=frozenset(roles)) for name, roles in data.items()}
        for user in users.values():
            _check_roles(user.roles, where=f"{source}: users.{user.name}.roles")
        return cls(users=users, source=source)


def load_users(path: str | Path | None = None) -> Directory:
    """Read the users file (default: ``config.users_path()``); a bad file is one clear error."""
    import yaml

    from govflow import config

    where = Path(path) if path is not None else config.users_path()
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except OSError as err:
        raise BadInputError(f"cannot read users file {where}: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise BadInputError(f"users file {where}: invalid YAML") from err
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise BadInputError(f"users file {where}: expected a mapping 'users: {{name: {{roles: [...]}}}}'")
    users = {}
    for name, entry in entries.items():
        here = f"users file {where}: users.{name}"
        if not isinstance(entry, dict) or not isinstance(entry.get("roles"), list):
            raise BadInputError(f"{here}.roles: expected a list of roles")
        unknown_keys = set(entry) - {"roles", "name"}
        if unknown_keys:
            raise BadInputError(f"{here}.{sorted(unknown_keys)[0]}: unknown key")
        roles = frozenset(str(role) for role in entry["roles"])
        _check_roles(roles, where=f"{here}.roles")
        users[str(name)] = User(name=str(name), roles=roles, display_name=str(entry.get("name") or ""))
    return Directory(users=users, source=str(where))


def _check_roles(roles: Iterable[str], *, where: str) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise BadInputError(f"{where}: unknown role {unknown[0]!r}; expected one of: {', '.join(ROLES)}")


def resolve_actor(explicit: str | None = None) -> str:
    """The acting user: ``--as`` if given, else ``GOVFLOW_USER``."""
    from govflow import config

    actor = config.current_user(explicit)
    if not actor:
        raise BadInputError("no acting user: pass --as USER or set GOVFLOW_USER")
    return actor


def get_user(name: str, *, users: Directory | None = None) -> User:
    return (users or load_users()).get(name)


def require_role(
    user: str | User,
    roles: Iterable[str],
    *,
    action: str = "do this",
    users: Directory | None = None,
    admin_ok: bool = True,
) -> User:
    """Return the user if they hold one of ``roles`` (admins pass unless ``admin_ok=False``).

    Raises ``PermissionDeniedError`` (exit status 1) naming the user, their roles,
    the action and the roles that would allow it.
    """
    wanted = tuple(roles)
    _check_roles(wanted, where="require_role")
    found = user if isinstance(user, User) else get_user(user, users=users)
    if found.has_any(wanted, admin_ok=admin_ok):
        return found
    allowed = " or ".join(wanted) if wanted else "no role"
    raise PermissionDeniedError(
        f"permission denied: {found.describe()} may not {action}; needs role {allowed}"
    )


def acting_role(user: User, allowed: Iterable[str]) -> str:
    """The role ``user`` acts in, out of ``allowed`` (first match in ``allowed``'s order)."""
    for role in allowed:
        if role in user.roles:
            return role
    raise PermissionDeniedError(
        f"permission denied: {user.describe()} holds none of the roles {', '.join(allowed) or '(none)'}"
    )
