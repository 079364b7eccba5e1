"""govflow.settings: one precedence for the DB URL, the artifact store, the signing key file and the
policy: GOVFLOW_* > [govflow] (AIRFLOW__GOVFLOW__*, airflow.cfg) > Airflow connection/Variable > default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govflow import config, data, settings
from govflow.errors import BadInputError

NAMES = ("DB_URL", "ARTIFACTS", "POLICY", "SIGNING_KEY_FILE")


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No govflow or Airflow setting in the environment; an empty Airflow home; Airflow not loaded."""
    for name in NAMES:
        monkeypatch.delenv(f"GOVFLOW_{name}", raising=False)
        monkeypatch.delenv(f"AIRFLOW__GOVFLOW__{name}", raising=False)
        monkeypatch.delenv(f"AIRFLOW_VAR_GOVFLOW_{name}", raising=False)
    for name in ("AIRFLOW_CONN_GOVFLOW_DB", "AIRFLOW_CONN_GOVFLOW_OBJECT_STORE", "AIRFLOW_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("GOVFLOW_HOME", str(tmp_path / "govflow"))
    monkeypatch.setattr(settings, "airflow_loaded", lambda: False)
    return tmp_path


def _cfg(home: Path, **options: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{k} = {v}\n" for k, v in options.items())
    (home / "airflow.cfg").write_text(f"[core]\nload_examples = False\n\n[govflow]\n{body}")


def test_defaults_without_any_setting(clean):
    assert config.db_url() == f"sqlite:///{clean / 'govflow' / 'govflow.db'}"
    assert config.artifacts_root() == str(clean / "govflow" / "artifacts")
    assert config.policy_path() == data.default_policy()
    assert settings.signing_key_file() is None


@pytest.mark.parametrize("name", ["policy", "artifacts", "db_url", "signing_key_file"])
def test_one_precedence_env_then_airflow_option_then_airflow_cfg(clean, monkeypatch, name):
    _cfg(clean / "airflow", **{name: "/from/cfg"})
    assert settings.setting(name) == "/from/cfg"
    monkeypatch.setenv(f"AIRFLOW__GOVFLOW__{name.upper()}", "/from/airflow-env")
    assert settings.setting(name) == "/from/airflow-env"
    monkeypatch.setenv(f"GOVFLOW_{name.upper()}", "/from/govflow-env")
    assert settings.setting(name) == "/from/govflow-env"


def test_getters_read_the_settings(clean, monkeypatch):
    _cfg(clean / "airflow", policy="/p.yaml", artifacts="s3://bucket/govflow", db_url="sqlite:////x.db")
    assert config.policy_path() == Path("/p.yaml")
    assert config.artifacts_root() == "s3://bucket/govflow"
    assert config.db_url() == "sqlite:////x.db"
    monkeypatch.setenv("AIRFLOW_CONFIG", str(clean / "elsewhere.cfg"))  # Airflow's own override
    assert config.policy_path() == data.default_policy()


def test_a_variable_comes_after_the_config_and_before_the_default(clean, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_GOVFLOW_POLICY", "/from/variable.yaml")
    assert config.policy_path() == Path("/from/variable.yaml")
    monkeypatch.setenv("AIRFLOW__GOVFLOW__POLICY", "/from/option.yaml")
    assert config.policy_path() == Path("/from/option.yaml")


def test_the_db_url_comes_from_the_govflow_db_connection(clean, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GOVFLOW_DB", "postgres://gov%40app:s%3Acret@db.example:5433/governance")
    assert config.db_url() == "postgresql+psycopg2://gov%40app:s%3Acret@db.example:5433/governance"
    monkeypatch.setenv("GOVFLOW_DB_URL", "sqlite:////explicit.db")
    assert config.db_url() == "sqlite:////explicit.db"


def test_a_connection_of_another_kind_is_one_line(clean, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GOVFLOW_DB", "http://example.com")
    with pytest.raises(BadInputError, match="type 'http' is not a database govflow supports"):
        config.db_url()


def test_object_store_credentials_from_the_connection_else_the_aws_environment(clean, monkeypatch):
    from govflow import storage

    def credentials():
        options = storage.resolve("s3://bucket/key").options
        return {k: options.get(k) for k in ("endpoint_url", "key", "secret")}

    monkeypatch.delenv("GOVFLOW_S3_CONN_ID", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:8333")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    assert credentials() == {"endpoint_url": "http://env:8333", "key": "env-key", "secret": "env-secret"}
    monkeypatch.setenv(
        "AIRFLOW_CONN_GOVFLOW_OBJECT_STORE",
        '{"conn_type": "govflow_object_store", "host": "http://s3:8333", "login": "k", "password": "s"}',
    )
    assert credentials() == {"endpoint_url": "http://s3:8333", "key": "k", "secret": "s"}


def test_a_plain_cli_process_never_imports_airflow_for_a_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GOVFLOW"))}
    env |= {"AIRFLOW_HOME": str(tmp_path), "GOVFLOW_HOME": str(tmp_path / "g")}
    (tmp_path / "airflow.cfg").write_text("[govflow]\npolicy = /cfg/policy.yaml\n")
    code = (
        "import sys; from govflow import config; "
        "print(config.policy_path(), config.db_url(), 'airflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    expected = ["/cfg/policy.yaml", f"sqlite:///{tmp_path / 'g' / 'govflow.db'}", "False"]
    assert out.stdout.split() == expected, out.stderr[-2000:]


def test_the_signing_key_file_can_come_from_the_govflow_section(clean, monkeypatch):
    from govflow import signing

    monkeypatch.delenv("GOVFLOW_SIGNING_KEY", raising=False)
    key = clean / "keys" / "audit.pem"
    monkeypatch.setenv("AIRFLOW__GOVFLOW__SIGNING_KEY_FILE", str(key))
    assert signing._source()[:2] == ("file", str(key))
