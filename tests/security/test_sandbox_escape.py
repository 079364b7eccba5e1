"""A malicious pickle loaded where a policy accepts pickles: what its code can reach.

Before the confinement the "sandbox" child ran as the same user with the
network and the filesystem of its parent: a limited-tier .joblib loaded by a
reviewer's `govflow explain` read /proc/<parent>/environ (the signing key),
read the key file and the governance DB, imported govflow and signed an event,
and opened connections to 127.0.0.1. Each attempt below must now fail.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
from pathlib import Path

import pytest

import govflow
from govflow import config, sealing
from govflow.checks._sandbox import load_sandboxed
from govflow.signing import generate_key_files

ATTACK = """
import json, os, socket, sqlite3, sys
r = {"own_env": " ".join(sorted(os.environ))}
def attempt(name, fn):
    try:
        r[name] = "ok: " + repr(fn())[:120]
    except BaseException as err:
        r[name] = "blocked: " + type(err).__name__
attempt("parent_environ", lambda: open(f"/proc/{os.getppid()}/environ", "rb").read())
attempt("parent_cmdline", lambda: open(f"/proc/{os.getppid()}/cmdline", "rb").read())
attempt("key_file", lambda: open(T["key"], "rb").read())
attempt("home_db_read", lambda: open(T["db"], "rb").read(16))
attempt("home_db_write", lambda: sqlite3.connect(T["db"]).execute("CREATE TABLE pwned (x)"))
attempt("home_listing", lambda: os.listdir(T["home"]))
def sign():
    sys.path.insert(0, T["include"])  # the attacker knows where govflow's source is
    os.environ.update(GOVFLOW_SIGNING_KEY_FILE=T["key"], GOVFLOW_HOME=T["home"], GOVFLOW_ENV="development")
    from govflow import signing
    return signing.signing_key().sign(b"govflow-audit-event/1:" + b"0" * 64)
attempt("import_govflow_and_sign", sign)
attempt("socket_127", lambda: socket.create_connection(("127.0.0.1", T["port"]), timeout=3).close())
class Model:
    def predict(self, X):
        return [json.dumps(r)] * len(X)
m = Model()
"""


class Evil:
    def __init__(self, targets: dict) -> None:
        self.code = f"T = {targets!r}\n{ATTACK}"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # exec runs the attack when the file is unpickled; eval hands back the model it built.
        return (eval, (f"[exec({self.code!r}, g := {{}}), g['m']][1]",))


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    accepted: list[object] = []

    def serve() -> None:
        try:
            while True:
                accepted.append(server.accept())
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


@pytest.fixture(autouse=True)
def _unsealed():
    yield
    sealing.reset()


def _attack(db_url: str, tmp_path: Path, port: int, monkeypatch) -> dict[str, str]:
    import joblib

    key = generate_key_files(tmp_path / "keys" / "audit-signing.pem")
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", key.source)
    # The worker's environment also holds a key itself (compose used to pass it like this).
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY", (tmp_path / "keys" / "audit-signing.pem").read_text())
    targets = {
        "key": key.source,
        "db": db_url.removeprefix("sqlite:///"),
        "home": str(config.home()),
        "include": str(Path(govflow.__file__).resolve().parents[1]),
        "port": port,
    }
    buffer = io.BytesIO()
    joblib.dump(Evil(targets), buffer)
    model = load_sandboxed(buffer.getvalue())
    try:
        return json.loads(str(model.predict([[0]])[0]))
    finally:
        model.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="the full confinement (uid nobody, new root) needs root")
def test_a_malicious_pickle_reaches_no_secret_no_state_and_no_network(
    db_url, tmp_path, listener, monkeypatch
):
    if not db_url.startswith("sqlite"):
        pytest.skip("the DB file attack needs the SQLite governance DB")
    port, accepted = listener
    seen = _attack(db_url, tmp_path, port, monkeypatch)
    own_env = set(seen.pop("own_env").split())
    assert not {k for k in own_env if "GOVFLOW" in k or "KEY" in k or "AIRFLOW" in k}
    assert set(seen) == {
        "parent_environ",
        "parent_cmdline",
        "key_file",
        "home_db_read",
        "home_db_write",
        "home_listing",
        "import_govflow_and_sign",
        "socket_127",
    }
    reached = {name: outcome for name, outcome in seen.items() if not outcome.startswith("blocked")}
    assert reached == {}
    assert accepted == []  # no connection reached the listener


def test_the_parent_is_sealed_before_the_child_starts(db_url, tmp_path, listener, monkeypatch):
    """Whatever the child's confinement: no key variable left in os.environ, the parent non-dumpable,
    and the parent still signs with the key it took out of the environment."""
    from govflow import signing

    port, _ = listener
    if os.geteuid() == 0 and db_url.startswith("sqlite"):
        _attack(db_url, tmp_path, port, monkeypatch)
    else:
        key = generate_key_files(tmp_path / "k.pem")
        monkeypatch.setenv("GOVFLOW_SIGNING_KEY", (tmp_path / "k.pem").read_text())
        sealing.seal_process()
        assert signing.signing_key().key_id == key.key_id
    assert "GOVFLOW_SIGNING_KEY" not in os.environ
    assert not sealing.is_dumpable()
    assert signing.signing_key().sign(b"x")
