"""Who is acting, how that was proven, and which roles they hold.

Identity is proven, never typed:
- the Governance view and its API take the user from Airflow's auth manager (``airflow``);
- the direct-database CLI is an operator tool acting as the operating-system user of the
  process (``os``); naming anyone else (``--as``, ``GOVFLOW_USER``) is refused unless
  ``GOVFLOW_DEV_MODE=1`` (demos and tests), and then recorded as ``dev``;
- DAG tasks and services act as themselves (``system``).

Roles come from the deployment's configuration: the roles file named by
``GOVFLOW_ROLES_FILE`` (operator-owned like OpenSSH's StrictModes: the file and
every folder above it owned by root or the operator uid, never the service
uid, not group/world-writable, symlinks resolved; checked on every load),
optionally mapping the auth manager's roles to govflow roles.
Nothing in ``$GOVFLOW_HOME`` (a volume task code can write) is ever read for roles.
Without a configured file nobody holds a role (dev mode falls back to the bundled
demo users). Users unknown to govflow get nothing.

Roles can be scoped to teams: ``users: {rita: {roles: [reviewer], teams: [retail]}}`` lets rita
see and review only models registered with ``--team retail``; no ``teams`` means every team.
The scope is enforced where the data is read and changed (``service.team_scope``, the gate's
approval counting), never only in a page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from govflow import config, ownership
from govflow.errors import BadInputError, PermissionDeniedError
from govflow.vocab import ADMIN, AUTH_METHODS, ROLES, AuthMethod

# Re-exported: callers take the auth vocabulary from here with the identity types.
__all__ = [
    "AUTH_METHODS",
    "PII_SAMPLE_ROLES",
    "AuthMethod",
    "Directory",
    "Identity",
    "User",
    "acting_role",
    "cli_identity",
    "covers",
    "get_user",
    "load_users",
    "os_user",
    "require_role",
    "require_strong_auth",
    "sees_pii_samples",
]

ERR_IMPERSONATION = (
    "permission denied: the direct-database CLI acts as the OS user {me!r}, not as {wanted!r}; "
    "act as another person through the Governance API (`govflow login`, then --api), "
    "or set GOVFLOW_DEV_MODE=1 in a demo or test"
)
ERR_ROLES_NOT_OPERATOR_OWNED = (
    "roles file {path}: {why}; roles must come from operator-owned configuration (the file and every "
    "folder above it owned by root or GOVFLOW_OPERATOR_UID, never the service account, and not "
    "group/world-writable)"
)


@dataclass(frozen=True)
class Identity:
    """A proven actor: the name and how it was authenticated."""

    name: str
    auth_method: AuthMethod


def os_user() -> str:
    """The operating-system user the process runs as (effective uid), as the kernel knows it."""
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (containers): the number is still proven
        return f"uid-{os.geteuid()}"


def cli_identity(explicit: str | None = None) -> Identity:
    """The direct-database CLI's actor: the OS user; another name only in dev mode (recorded as ``dev``)."""
    wanted = explicit or os.environ.get("GOVFLOW_USER") or None
    me = os_user()
    if not wanted or wanted == me:
        return Identity(me, "os")
    if config.dev_mode():
        return Identity(wanted, "dev")
    raise PermissionDeniedError(ERR_IMPERSONATION.format(me=me, wanted=wanted))


SYSTEM_AUTH: AuthMethod = "system"
# Who may change governance itself (apply a policy, waive a check): only identities Airflow's auth
# manager proved (a session or an API token), never the OS user of the direct-DB CLI or dev mode.
GOVERNANCE_AUTH: tuple[AuthMethod, ...] = ("airflow", "api-token")
ERR_WEAK_AUTH = (
    "permission denied: {action} needs an identity proven by Airflow (a session or an API token: "
    "`govflow login`, then --api), not one authenticated by {method}"
)


def require_strong_auth(auth_method: str | None, *, action: str) -> None:
    """Refuse a governance change by an actor not authenticated through Airflow (``GOVERNANCE_AUTH``)."""
    if auth_method not in GOVERNANCE_AUTH:
        raise PermissionDeniedError(ERR_WEAK_AUTH.format(action=action, method=auth_method or "nothing"))


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]
    display_name: str = ""
    # The teams this user's roles apply to; None: every team (and models registered without one).
    teams: frozenset[str] | None = None

    def has_any(self, roles: Iterable[str], *, admin_ok: bool = True) -> bool:
        wanted = set(roles)
        return bool(self.roles & wanted) or (admin_ok and ADMIN in self.roles)

    def covers(self, team: str | None) -> bool:
        """Whether this user's roles reach a model of ``team`` (a scoped user: only their teams')."""
        return covers(self.teams, team)

    def describe(self) -> str:
        scope = f" of team {', '.join(sorted(self.teams))}" if self.teams is not None else ""
        return f"{self.name} ({', '.join(sorted(self.roles)) or 'no role'}{scope})"


def covers(teams: Iterable[str] | None, team: str | None) -> bool:
    """A scope (None: every team) covers a model's ``team``; a scoped user never a team-less model."""
    return teams is None or (team is not None and team in set(teams))


@dataclass(frozen=True)
class Directory:
    """The known users, by name, and the auth manager's roles mapped to govflow roles."""

    users: Mapping[str, User] = field(default_factory=dict)
    source: str = "<memory>"
    # e.g. {"Admin": {"admin"}, "Op": {"reviewer"}}: an Airflow role grants these govflow roles.
    mapped_roles: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def get(self, name: str, *, external_roles: Iterable[str] = ()) -> User:
        """The user ``name``; ``external_roles`` (proven by the auth manager) add their mapped roles."""
        user = self.users.get(name)
        extra = frozenset(r for role in external_roles for r in self.mapped_roles.get(str(role), ()))
        if user is None and not extra:
            raise PermissionDeniedError(f"permission denied: unknown user {name!r} (not in {self.source})")
        if user is None:
            return User(name=name, roles=extra)
        if not extra:
            return user
        # Mapped roles add roles, never widen a scope the roles file set.
        return User(name=name, roles=user.roles | extra, display_name=user.display_name, teams=user.teams)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Iterable[str]], *, source: str = "<memory>") -> Directory:
        """``{"alice": ["data_scientist"], ...}``: handy for tests and the web app."""
        users = {name: User(name=name, roles=frozenset(roles)) for name, roles in data.items()}
        for user in users.values():
            _check_roles(user.roles, where=f"{source}: users.{user.name}.roles")
        return cls(users=users, source=source)


def load_users(path: str | Path | None = None) -> Directory:
    """The deployment's roles file (default: ``config.roles_path()``); a bad file is one clear error.

    Outside dev mode the configured file must be operator-owned (``_check_operator_owned``: a
    task or worker shell could otherwise grant itself roles); no configured file means no roles.
    """
    import yaml

    if path is None:
        where = config.roles_path()
        if where is None:
            return Directory(source="no roles file configured (set GOVFLOW_ROLES_FILE)")
        if not config.dev_mode():
            _check_operator_owned(where)
    else:
        where = Path(path)
    try:
        data = yaml.safe_load(where.read_text(encoding="utf-8"))
    except OSError as err:
        raise BadInputError(f"cannot read users file {where}: {err.strerror or err}") from err
    except yaml.YAMLError as err:
        raise BadInputError(f"users file {where}: invalid YAML") from err
    entries = data.get("users") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise BadInputError(f"users file {where}: expected a mapping 'users: {{name: {{roles: [...]}}}}'")
    unknown_top = sorted(set(data) - {"users", "auth_manager_roles"})
    if unknown_top:
        raise BadInputError(f"users file {where}: {unknown_top[0]}: unknown key")
    users = {}
    for name, entry in entries.items():
        here = f"users file {where}: users.{name}"
        if not isinstance(entry, dict) or not isinstance(entry.get("roles"), list):
            raise BadInputError(f"{here}.roles: expected a list of roles")
        unknown_keys = set(entry) - {"roles", "name", "teams"}
        if unknown_keys:
            raise BadInputError(f"{here}.{sorted(unknown_keys)[0]}: unknown key")
        roles = frozenset(str(role) for role in entry["roles"])
        _check_roles(roles, where=f"{here}.roles")
        users[str(name)] = User(
            name=str(name),
            roles=roles,
            display_name=str(entry.get("name") or ""),
            teams=_teams(entry, where=f"{here}.teams"),
        )
    mapped = {}
    for external, roles in (data.get("auth_manager_roles") or {}).items():
        here = f"users file {where}: auth_manager_roles.{external}"
        if not isinstance(roles, list):
            raise BadInputError(f"{here}: expected a list of roles")
        mapped[str(external)] = frozenset(str(r) for r in roles)
        _check_roles(mapped[str(external)], where=here)
    return Directory(users=users, source=str(where), mapped_roles=mapped)


def _teams(entry: Mapping[str, object], *, where: str) -> frozenset[str] | None:
    """The ``teams`` of a roles-file entry: absent means every team; an empty list is a mistake
    (it would read as 'no team' to one reader and 'every team' to another)."""
    if "teams" not in entry:
        return None
    teams = entry["teams"]
    if not isinstance(teams, list) or not teams:
        raise BadInputError(f"{where}: expected a non-empty list of team names (leave it out for every team)")
    if not all(isinstance(t, str) and t.strip() for t in teams):
        raise BadInputError(f"{where}: team names must be non-empty strings")
    return frozenset(t.strip() for t in teams)


def _check_operator_owned(path: Path) -> None:
    """Refuse a roles file the service account could change, now or later (OpenSSH StrictModes):
    the file and every folder above it, along the given path and the real one, owned by root or
    the operator (never the service uid) and not group/world-writable (govflow.ownership)."""
    why = ownership.problem(path)
    if why is not None:
        raise BadInputError(ERR_ROLES_NOT_OPERATOR_OWNED.format(path=path, why=why))


def _check_roles(roles: Iterable[str], *, where: str) -> None:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise BadInputError(f"{where}: unknown role {unknown[0]!r}; expected one of: {', '.join(ROLES)}")


# Who reads a PII finding's masked examples (j***@e***.com): the data protection officer (and an
# admin). Everyone else sees that a finding exists (column, entity, rate, allowed or not), never
# its examples; raw values never leave a check, for anyone.
PII_SAMPLE_ROLES: tuple[str, ...] = ("dpo", ADMIN)


def sees_pii_samples(viewer: User | None) -> bool:
    """Whether ``viewer`` may read masked PII examples (None: the governance service itself)."""
    return viewer is None or bool(viewer.roles & set(PII_SAMPLE_ROLES))


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
