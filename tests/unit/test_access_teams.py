"""Team scopes in the roles file: `teams` scopes a user's roles; no `teams` means every team."""

from __future__ import annotations

import pytest

from govflow.access import covers, load_users
from govflow.errors import BadInputError

ROLES = """
users:
  rita: {roles: [reviewer], teams: [retail]}
  rob: {roles: [reviewer]}
  otto: {roles: [reviewer], teams: [retail, " cards "]}
auth_manager_roles:
  Op: [admin]
"""


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "roles.yaml"
    path.write_text(ROLES)
    return load_users(path)


def test_teams_scope_a_user_and_no_teams_means_every_team(users):
    rita, rob, otto = users.get("rita"), users.get("rob"), users.get("otto")
    assert rita.teams == {"retail"} and rob.teams is None and otto.teams == {"retail", "cards"}
    assert rita.covers("retail") and not rita.covers("wholesale")
    assert not rita.covers(None)  # a scoped reviewer never reaches a model registered without a team
    assert rob.covers("wholesale") and rob.covers(None)
    assert rita.describe() == "rita (reviewer of team retail)"
    assert rob.describe() == "rob (reviewer)"


def test_mapped_auth_manager_roles_add_roles_but_never_widen_the_scope(users):
    rita = users.get("rita", external_roles=["Op"])
    assert rita.roles == {"reviewer", "admin"} and rita.teams == {"retail"}


def test_covers_on_a_recorded_scope():
    assert covers(None, "retail") and covers(None, None)
    assert covers(["retail"], "retail") and not covers(["retail"], "cards") and not covers([], "retail")


@pytest.mark.parametrize(
    ("teams", "message"),
    [
        ("[]", "users.zoe.teams: expected a non-empty list of team names (leave it out for every team)"),
        ("retail", "users.zoe.teams: expected a non-empty list of team names (leave it out for every team)"),
        ('[retail, ""]', "users.zoe.teams: team names must be non-empty strings"),
        ("[retail, 3]", "users.zoe.teams: team names must be non-empty strings"),
    ],
)
def test_bad_teams_are_refused_in_one_line(tmp_path, teams, message):
    path = tmp_path / "roles.yaml"
    path.write_text(f"users:\n  zoe:\n    roles: [reviewer]\n    teams: {teams}\n")
    with pytest.raises(BadInputError) as info:
        load_users(path)
    assert str(info.value) == f"users file {path}: {message}"
