"""The roles file and the trusted keys folder are operator-owned, like OpenSSH's StrictModes.

Before, the check asked whether the running account could write the file or its
folder right now, and was skipped for root. Each variant below was accepted and
then turned into `admin` by the service account: its own file chmod 0444 in its
own 0555 folder (it can chmod back), an operator's file under a folder the
account can write (rename the folder, put a new one), a symlink into a writable
folder. The tests run as root: the service account is a configured uid
(GOVFLOW_SERVICE_UID) that files are chowned to.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from govflow.access import load_users
from govflow.errors import BadInputError

SERVICE_UID = 4242
OPERATOR_UID = 5151


@pytest.fixture
def conf(tmp_path, monkeypatch) -> Path:
    """An operator-owned config folder (root, 0755) holding roles.yaml (root, 0644); not dev mode."""
    monkeypatch.delenv("GOVFLOW_DEV_MODE")
    monkeypatch.setenv("GOVFLOW_SERVICE_UID", str(SERVICE_UID))
    os.chmod(tmp_path, 0o755)
    folder = tmp_path / "conf"
    folder.mkdir(mode=0o755)
    roles = folder / "roles.yaml"
    roles.write_text("users:\n  svc:\n    roles: [admin]\n")
    os.chmod(roles, 0o644)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    return folder


def _refused(match: str) -> None:
    with pytest.raises(BadInputError, match=match):
        load_users()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_an_operator_owned_roles_file_is_accepted(conf):
    assert load_users().get("svc").roles == {"admin"}


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_the_service_accounts_own_read_only_file_in_its_own_read_only_folder_is_refused(conf):
    roles = conf / "roles.yaml"
    os.chown(roles, SERVICE_UID, SERVICE_UID)
    os.chown(conf, SERVICE_UID, SERVICE_UID)
    os.chmod(roles, 0o444)
    os.chmod(conf, 0o555)  # read-only now, but its owner can chmod it back at any time
    _refused(r"roles\.yaml is owned by uid 4242 \(the service account\)")
    os.chown(roles, 0, 0)  # the file alone handed to root: the folder is still the account's
    _refused(r"conf is owned by uid 4242 \(the service account\)")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_an_operator_file_under_a_folder_the_account_can_write_is_refused(conf):
    os.chown(conf.parent, SERVICE_UID, SERVICE_UID)  # it could rename conf/ and put its own there
    _refused("is owned by uid 4242")
    os.chown(conf.parent, 0, 0)
    os.chmod(conf, 0o777)  # world-writable, owned by root: anyone may replace the file
    _refused("group- or world-writable")
    os.chmod(conf, 0o775)
    _refused("group- or world-writable")
    os.chmod(conf, 0o755)
    os.chmod(conf / "roles.yaml", 0o664)
    _refused("group- or world-writable")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_a_symlink_into_a_writable_folder_is_refused(conf, monkeypatch):
    writable = conf.parent / "svc-owned"
    writable.mkdir(mode=0o755)
    target = writable / "roles.yaml"
    target.write_text("users:\n  svc:\n    roles: [admin]\n")
    os.chown(writable, SERVICE_UID, SERVICE_UID)
    link = conf / "linked.yaml"  # the link itself sits in the operator's folder
    link.symlink_to(target)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(link))
    _refused("svc-owned is owned by uid 4242")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_ownership_is_checked_again_on_every_load(conf):
    assert load_users().get("svc").roles == {"admin"}
    os.chown(conf, SERVICE_UID, SERVICE_UID)  # handed over after start-up
    _refused("is owned by uid 4242")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to model the service account needs root")
def test_the_configured_operator_may_own_it_but_never_the_service_uid(conf, monkeypatch):
    os.chown(conf / "roles.yaml", OPERATOR_UID, OPERATOR_UID)
    _refused(f"owned by uid {OPERATOR_UID}")
    monkeypatch.setenv("GOVFLOW_OPERATOR_UID", str(OPERATOR_UID))
    assert load_users().get("svc").roles == {"admin"}
    monkeypatch.setenv("GOVFLOW_OPERATOR_UID", str(SERVICE_UID))  # naming the service uid grants nothing
    os.chown(conf / "roles.yaml", SERVICE_UID, SERVICE_UID)
    _refused("the service account")


def test_production_refuses_the_state_volume_as_trust_root(tmp_path, monkeypatch):
    from govflow import config
    from govflow.signing import Keyring

    monkeypatch.setenv("GOVFLOW_ENV", "production")
    monkeypatch.delenv("GOVFLOW_DEV_MODE")
    with pytest.raises(BadInputError, match="inside the state volume"):
        Keyring.trusted()  # the default, $GOVFLOW_HOME/keys
    monkeypatch.setenv("GOVFLOW_TRUSTED_KEYS_DIR", str(config.home() / "keys"))
    with pytest.raises(BadInputError, match="inside the state volume"):
        Keyring.trusted()
    os.chmod(tmp_path, 0o755)
    trusted = tmp_path / "trusted-keys"
    trusted.mkdir(mode=0o755)
    monkeypatch.setenv("GOVFLOW_TRUSTED_KEYS_DIR", str(trusted))
    assert Keyring.trusted().keys == {}
    if os.geteuid() == 0:
        monkeypatch.setenv("GOVFLOW_SERVICE_UID", str(SERVICE_UID))
        os.chown(trusted, SERVICE_UID, SERVICE_UID)  # a folder the service account could add keys to
        with pytest.raises(BadInputError, match=r"trusted keys folder .* owned by uid 4242"):
            Keyring.trusted()


def test_production_never_generates_a_signing_key_in_the_state_volume(db_url, monkeypatch):
    from govflow.store import session_scope
    from govflow.store.audit import append_event

    monkeypatch.setenv("GOVFLOW_ENV", "production")
    monkeypatch.delenv("GOVFLOW_DEV_MODE", raising=False)
    monkeypatch.delenv("GOVFLOW_SIGNING_KEY_FILE", raising=False)  # production without a configured key
    with pytest.raises(BadInputError, match="never generates one in the state volume"), session_scope() as s:
        append_event(s, actor="a", action="policy.applied", subject="policy:x")
    assert not (Path(os.environ["GOVFLOW_HOME"]) / "keys").exists()
