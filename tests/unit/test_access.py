"""Users, roles and permission checks."""

from __future__ import annotations

import pytest

from govflow.access import Directory, Identity, acting_role, cli_identity, load_users, os_user, require_role
from govflow.data import demo_users
from govflow.errors import BadInputError, PermissionDeniedError

BUNDLED = demo_users()


@pytest.fixture(scope="module")
def users():
    return load_users(BUNDLED)


def test_bundled_demo_users(users):
    roles = {name: set(user.roles) for name, user in users.users.items()}
    assert roles["alice"] == {"data_scientist"}
    assert roles["rita"] == {"reviewer"} and roles["rob"] == {"reviewer"}
    assert roles["vera"] == {"viewer"}
    assert roles["admin"] == {"admin"}


def test_require_role_returns_the_user(users):
    assert require_role("rita", ["reviewer"], users=users).name == "rita"


def test_viewer_is_refused_with_a_clear_message(users):
    with pytest.raises(PermissionDeniedError) as info:
        require_role("vera", ["reviewer", "admin"], action="approve tabular-credit 1.2.0", users=users)
    assert str(info.value) == (
        "permission denied: vera (viewer) may not approve tabular-credit 1.2.0; needs role reviewer or admin"
    )
    assert info.value.exit_code == 1


def test_admin_passes_unless_excluded(users):
    assert require_role("admin", ["reviewer"], users=users).name == "admin"
    with pytest.raises(PermissionDeniedError, match="admin \\(admin\\) may not waive"):
        require_role("admin", ["reviewer"], action="waive", users=users, admin_ok=False)


def test_unknown_user_is_refused(users):
    with pytest.raises(
        PermissionDeniedError, match=r"permission denied: unknown user 'mallory' \(not in .*users.yaml\)"
    ):
        require_role("mallory", ["viewer"], users=users)


def test_users_come_from_the_configured_roles_file(monkeypatch, tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  zoe:\n    roles: [reviewer, data_scientist]\n")
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(path))
    assert require_role("zoe", ["reviewer"]).roles == {"reviewer", "data_scientist"}
    with pytest.raises(PermissionDeniedError, match="unknown user 'rita'"):
        require_role("rita", ["reviewer"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "users:\n  zoe:\n    roles: [reviwer]\n",
            "users.zoe.roles: unknown role 'reviwer'; expected one of: viewer, "
            "data_scientist, reviewer, admin, auditor, dpo",
        ),
        ("users:\n  zoe: reviewer\n", "users.zoe.roles: expected a list of roles"),
        ("users:\n  zoe:\n    roles: [viewer]\n    rolez: [admin]\n", "users.zoe.rolez: unknown key"),
        ("- zoe\n", "expected a mapping 'users: {name: {roles: [...]}}'"),
    ],
)
def test_bad_users_file(tmp_path, content, message):
    path = tmp_path / "users.yaml"
    path.write_text(content)
    with pytest.raises(BadInputError) as info:
        load_users(path)
    assert str(info.value) == f"users file {path}: {message}"


def test_cli_actor_is_the_os_user_and_others_only_in_dev_mode(monkeypatch):
    me = os_user()
    assert cli_identity(None) == Identity(me, "os")
    assert cli_identity(me) == Identity(me, "os")
    monkeypatch.setenv("GOVFLOW_USER", "rob")
    assert cli_identity(None) == Identity("rob", "dev")
    assert cli_identity("rita") == Identity("rita", "dev")
    monkeypatch.delenv("GOVFLOW_DEV_MODE")
    with pytest.raises(PermissionDeniedError, match=f"acts as the OS user '{me}', not as 'rita'"):
        cli_identity("rita")
    with pytest.raises(PermissionDeniedError, match="not as 'rob'"):
        cli_identity(None)


def test_auth_manager_roles_map_to_govflow_roles(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text("users:\n  vera:\n    roles: [viewer]\nauth_manager_roles:\n  Op: [reviewer]\n")
    users = load_users(path)
    assert users.get("vera", external_roles=["Op"]).roles == {"viewer", "reviewer"}
    assert users.get("otto", external_roles=["Op"]).roles == {"reviewer"}
    with pytest.raises(PermissionDeniedError, match="unknown user 'otto'"):
        users.get("otto", external_roles=["Viewer"])


def test_acting_role_follows_the_allowed_order():
    users = Directory.from_mapping({"kim": ["admin", "reviewer"], "vera": ["viewer"]})
    assert acting_role(users.get("kim"), ["reviewer", "admin"]) == "reviewer"
    assert acting_role(users.get("kim"), ["admin"]) == "admin"
    with pytest.raises(
        PermissionDeniedError, match="vera \\(viewer\\) holds none of the roles reviewer, admin"
    ):
        acting_role(users.get("vera"), ["reviewer", "admin"])


def test_directory_from_mapping_checks_roles():
    with pytest.raises(BadInputError, match="unknown role 'root'"):
        Directory.from_mapping({"x": ["root"]})
