"""Ed25519 signing of audit events, audit checkpoints and bundle manifests, with keys split by role.

The private keys never live in the governance database, so someone who can
write to the database (a leaked DB password, a DBA) cannot forge or re-sign
events. There are two roles:

- the **decision key** signs everything: decisions, approvals, waivers,
  promotions, policy changes, registrations, checkpoints and manifests.
  Where it comes from, first match wins:

  1. ``GOVFLOW_SIGNING_KEY``: the key itself (PEM or base64 seed; dropped from the
     environment once read, see ``seal_process``);
  2. ``GOVFLOW_SIGNING_KEY_FILE``: a PEM file (mode 0600, owned by the service account);
  3. ``GOVFLOW_SIGNING_KEY_VARIABLE``: an Airflow Variable read through Airflow's secrets
     backend (``AIRFLOW_VAR_<NAME>`` works too, and is dropped the same way);
  4. outside production only, ``$GOVFLOW_HOME/keys/audit-signing.pem``, generated (0600)
     on first use: the embedded single-machine setup and the demo.

- the **check-result key** (``GOVFLOW_CHECK_SIGNING_KEY``: the key itself, dropped from the
  environment like the decision key's; or ``GOVFLOW_CHECK_SIGNING_KEY_FILE``), held by the
  workers that run checks on submitted data and artifacts, signs only
  check-class events (``CHECK_ACTIONS``: check results, rendered docs,
  exports, alerts). A process with only this key cannot record a decision;
  a decision-class event signed by a check key is a forgery (``Keyring.refuse``).
  Without a check key the decision key signs check results too (one key).

Verification needs only public keys: the signing keys' own and every ``*.pub``
in ``GOVFLOW_TRUSTED_KEYS_DIR`` (default ``$GOVFLOW_HOME/keys``, refused in
production: the state volume is writable by every worker). A trusted key named
``check-*.pub`` is a check-result key; any other is a decision key; a key id
that is a check key anywhere is a check key everywhere.

``govflow.sealing.seal_process`` (called before a sandbox child starts) drops
the variables holding a key from ``os.environ`` (this module still reads them
from there) and makes the process non-dumpable, so a child cannot read
``/proc/<parent>/environ`` or ``/proc/<parent>/mem``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from govflow import config, ownership, sealing, settings
from govflow.errors import BadInputError, PermissionDeniedError

LOCAL_KEY_NAME = "audit-signing.pem"
# A trusted public key file named like this is a check-result key (it may sign CHECK_ACTIONS only).
CHECK_KEY_PREFIX = "check-"
# The events a check-result key may sign: what a worker running checks on untrusted input records.
# Everything else (decisions, approvals, waivers, promotions, policy, registrations, checkpoints)
# needs the decision key; an action missing from this list is a decision (fail closed).
CHECK_ACTIONS = frozenset(
    {
        "check.recorded",
        "docs.rendered",
        "evidence.exported",
        "evidence.bom_exported",
        "alert.raised",
        "alert.resolved",
        "partition.claimed",  # nightly's claim of the partitions a check reads (service.partitions)
    }
)
_lock = threading.Lock()
_cache: dict[tuple[str, ...], SigningKey] = {}
# Appends ask for the key on every event: a file's mtime is re-checked at most this often.
_RECHECK_S = 1.0
_last: tuple[tuple[str | None, ...], float, SigningKey] | None = None


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    key_id: str
    source: str

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


def key_id_of(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def keys_dir() -> Path:
    return Path(os.environ.get("GOVFLOW_TRUSTED_KEYS_DIR") or config.home() / "keys")


def trusted_keys_dir() -> Path:
    """The folder of trusted public keys, checked before any key in it is believed.

    In production it must be configured (``GOVFLOW_TRUSTED_KEYS_DIR``), outside ``$GOVFLOW_HOME``
    (the state volume every worker writes) and operator-owned like a roles file (StrictModes).
    """
    folder = keys_dir()
    if not config.production():
        return folder
    home = Path(os.path.realpath(config.home()))
    real = Path(os.path.realpath(folder))
    if not os.environ.get("GOVFLOW_TRUSTED_KEYS_DIR") or real == home or home in real.parents:
        raise BadInputError(
            f"trusted keys folder {folder} is inside the state volume ($GOVFLOW_HOME {home}): a production "
            "deployment sets GOVFLOW_TRUSTED_KEYS_DIR to an operator-owned folder outside it (read-only)"
        )
    if folder.exists():
        ownership.require_operator_owned(folder, what="trusted keys folder")
    return folder


def is_check_action(action: str) -> bool:
    return action in CHECK_ACTIONS


def check_key_configured() -> bool:
    return bool(sealing.get("GOVFLOW_CHECK_SIGNING_KEY") or os.environ.get("GOVFLOW_CHECK_SIGNING_KEY_FILE"))


def key_for_action(action: str) -> SigningKey:
    """The key that signs an event of ``action``: the check-result key for a check-class event
    when this process has one, else the decision key (refused where this process holds none)."""
    if is_check_action(action) and check_key_configured():
        return check_key()
    return signing_key(purpose=repr(action))


def check_key() -> SigningKey:
    """The check-result key: ``GOVFLOW_CHECK_SIGNING_KEY``, else ``GOVFLOW_CHECK_SIGNING_KEY_FILE``
    (re-read when the file changes)."""
    inline = sealing.get("GOVFLOW_CHECK_SIGNING_KEY")
    if inline:
        source: tuple[str, ...] = ("check-env", inline)
    else:
        where = os.environ["GOVFLOW_CHECK_SIGNING_KEY_FILE"]
        source = ("check-file", where, str(_mtime(Path(where))))
    with _lock:
        key = _cache.get(source)
    if key is None:
        key = _load(source)
        with _lock:
            _cache[source] = key
    return key


def holds_decision_key() -> bool:
    """False in a check worker (only the check-result key): it signs no seal, checkpoint or decision."""
    return not (check_key_configured() and not _decision_key_configured())


def refuse_untrusted_work(what: str) -> None:
    """Refuse ``what`` (parsing submitted data, loading a model file) in a split deployment's process
    that holds the decision key: such work runs on the check workers. A DAG author or whoever can
    write Airflow's serialized DAGs could otherwise route a check to the decision queue, where a
    model file's code would run beside the key that approves and promotes."""
    if os.environ.get("GOVFLOW_DECISION_QUEUE") and _decision_key_configured():
        raise PermissionDeniedError(
            f"this process holds the decision key and the deployment keeps decisions apart "
            f"(GOVFLOW_DECISION_QUEUE): it does not run {what}; check workers (only the check-result "
            "key) do"
        )


def _decision_key_configured() -> bool:
    env = os.environ
    return bool(
        env.get("GOVFLOW_SIGNING_KEY")
        or env.get("GOVFLOW_SIGNING_KEY_FILE")
        or env.get("GOVFLOW_SIGNING_KEY_VARIABLE")
        or sealing.get("GOVFLOW_SIGNING_KEY")
    )


def _source_or_none() -> tuple[str, ...] | None:
    """The decision key's source, None where this process has none (a check-only worker, or
    production without a configured key)."""
    if check_key_configured() and not _decision_key_configured():
        return None
    if config.production() and not _decision_key_configured():
        return None
    return _source()


def signing_key(*, purpose: str = "a decision, checkpoint or manifest") -> SigningKey:
    """The configured decision key (cached per source; a changed file is re-read within a second).

    A process configured with only the check-result key has none: refused, never a local key."""
    global _last
    if check_key_configured() and not _decision_key_configured():
        raise BadInputError(
            f"this process holds only the check-result key (GOVFLOW_CHECK_SIGNING_KEY[_FILE]): "
            f"it cannot sign {purpose}, which needs the decision key"
        )
    now = time.monotonic()
    settings = _settings()
    with _lock:
        if _last is not None and _last[0] == settings and now - _last[1] < _RECHECK_S:
            return _last[2]
    source = _source()
    with _lock:
        key = _cache.get(source)
        if key is None:
            key = _cache[source] = _load(source)
        _last = (settings, now, key)
    return key


def _settings() -> tuple[str | None, ...]:
    env = os.environ
    return (
        sealing.get("GOVFLOW_SIGNING_KEY"),
        settings.signing_key_file(),  # GOVFLOW_SIGNING_KEY_FILE, or [govflow] signing_key_file
        env.get("GOVFLOW_SIGNING_KEY_VARIABLE"),
        env.get("GOVFLOW_HOME"),
    )


def _source() -> tuple[str, ...]:
    inline = sealing.get("GOVFLOW_SIGNING_KEY")
    if inline:
        return ("env", inline)
    path = settings.signing_key_file()
    if path:
        return ("file", path, str(_mtime(Path(path))))
    variable = os.environ.get("GOVFLOW_SIGNING_KEY_VARIABLE")
    if variable:
        return ("variable", variable)
    local = config.home() / "keys" / LOCAL_KEY_NAME
    if config.production():
        raise BadInputError(
            "no decision signing key configured (GOVFLOW_SIGNING_KEY_FILE): a production deployment "
            f"never generates one in the state volume ({local})"
        )
    return ("local", str(local), str(_mtime(local)))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return -1.0


def _load(source: tuple[str, ...]) -> SigningKey:
    kind, where = source[0], source[1]
    if kind == "env":
        return _key(parse_private_key(where, what="GOVFLOW_SIGNING_KEY"), "GOVFLOW_SIGNING_KEY")
    if kind == "check-env":
        return _key(parse_private_key(where, what="GOVFLOW_CHECK_SIGNING_KEY"), "GOVFLOW_CHECK_SIGNING_KEY")
    if kind in ("file", "check-file"):
        try:
            _refuse_shared(Path(where))
            text = Path(where).read_text()
        except OSError as err:
            name = "GOVFLOW_CHECK_SIGNING_KEY_FILE" if kind == "check-file" else "GOVFLOW_SIGNING_KEY_FILE"
            raise BadInputError(f"{name} {where}: {err.strerror or err}") from err
        return _key(parse_private_key(text, what=where), where)
    if kind == "variable":
        return _key(parse_private_key(_airflow_variable(where), what=f"Airflow Variable {where}"), where)
    return _key(_local_key(Path(where)), where)


def _key(private: Ed25519PrivateKey, source: str) -> SigningKey:
    return SigningKey(private=private, key_id=key_id_of(private.public_key()), source=source)


def _airflow_variable(name: str) -> str:
    env = sealing.get(f"AIRFLOW_VAR_{name.upper()}")
    if env:
        return env
    try:
        from airflow.sdk import Variable  # heavy: only when the deployment asks for it

        return str(Variable.get(name))
    except Exception as err:
        raise BadInputError(f"cannot read the signing key from Airflow Variable {name!r}: {err}") from err


def parse_private_key(text: str, *, what: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as err:
        raise BadInputError(f"{what}: not an Ed25519 private key (PEM or base64 seed)") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInputError(f"{what}: not an Ed25519 private key (PEM or base64 seed)")
    return key


def parse_public_key(text: str, *, what: str) -> Ed25519PublicKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode("ascii"))
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error) as err:
        raise BadInputError(f"{what}: not an Ed25519 public key (PEM or base64)") from err
    if not isinstance(key, Ed25519PublicKey):
        raise BadInputError(f"{what}: not an Ed25519 public key (PEM or base64)")
    return key


def generate_key_files(private_path: Path) -> SigningKey:
    """Write a new private key (0600, refusing to overwrite) and its ``.pub`` beside it."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if private_path.exists():
        raise BadInputError(f"{private_path} exists: refusing to overwrite a signing key")
    # Written in full under a private name, then linked into place: a concurrent first use
    # either wins the link or reads the winner's complete key, never a half-written file.
    tmp = private_path.with_name(f".{private_path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, private_path)
    except FileExistsError as err:
        raise BadInputError(f"{private_path} exists: refusing to overwrite a signing key") from err
    finally:
        tmp.unlink(missing_ok=True)
    private_path.with_suffix(".pub").write_text(public_pem(private.public_key()))
    return _key(private, str(private_path))


def _local_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        try:
            return generate_key_files(path).private
        except BadInputError:
            pass  # another process generated it first: read theirs
    _refuse_shared(path)
    return parse_private_key(path.read_text(), what=str(path))


def _refuse_shared(path: Path) -> None:
    # Like ssh with a private key: one other users can read is no longer a secret.
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise BadInputError(
            f"signing key {path} is readable or writable by other users (mode {mode:o}): chmod 600 {path}"
        )


def sign_manifest(message: bytes) -> dict[str, str]:
    """A bundle manifest signature: the key id, the public key (a hint, never trusted by itself)."""
    key = signing_key()
    return {"key_id": key.key_id, "public_key": public_pem(key.public), "signature": key.sign(message)}


class Keyring:
    """Trusted public keys by key id: the signing keys' own plus the trusted keys folder.

    ``check_ids`` are the check-result keys: they may sign ``CHECK_ACTIONS`` only.
    """

    def __init__(self, keys: dict[str, Ed25519PublicKey], check_ids: frozenset[str] = frozenset()) -> None:
        self.keys = keys
        self.check_ids = check_ids

    @classmethod
    def trusted(cls, extra: list[Path] | None = None, *, include_signing_key: bool = True) -> Keyring:
        keys: dict[str, Ed25519PublicKey] = {}
        check_ids: set[str] = set()
        if include_signing_key:
            source = _source_or_none()
            # Verifying never generates a key: the local one counts only once it exists.
            if source is not None and not (source[0] == "local" and not Path(source[1]).exists()):
                public = signing_key().public
                keys[key_id_of(public)] = public
            if check_key_configured():
                public = check_key().public
                keys[key_id_of(public)] = public
                check_ids.add(key_id_of(public))
        folder = trusted_keys_dir()
        files = sorted(folder.glob("*.pub")) if folder.is_dir() else []
        for path in [*files, *(extra or [])]:
            if config.production() and path in files:
                ownership.require_operator_owned(path, what="trusted key")
            try:
                public = parse_public_key(path.read_text(), what=str(path))
            except OSError as err:
                raise BadInputError(f"public key {path}: {err.strerror or err}") from err
            keys[key_id_of(public)] = public
            if path.name.startswith(CHECK_KEY_PREFIX):
                check_ids.add(key_id_of(public))
        return cls(keys, frozenset(check_ids))

    def verify(self, key_id: str | None, signature: str | None, message: bytes) -> str | None:
        """None when valid, else why not."""
        if not signature or not key_id:
            return "not signed"
        public = self.keys.get(key_id)
        if public is None:
            return f"signed by key {key_id}, which is not a trusted key"
        try:
            public.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return f"signature does not verify with key {key_id}"
        return None

    def refuse(self, key_id: str | None, signature: str | None, action: str, message: bytes) -> str | None:
        """Why an event of ``action`` signed so is not acceptable (None when it is).

        A check-result key may sign check-class events only. A decision-class event is checked
        on its own signature, not only through a later one covering the chain: a worker holding
        the check key can append to the chain, so only the event's own signature by a decision
        key proves that a decision-key holder wrote it.
        """
        if is_check_action(action) or not self.check_ids:
            # A check-class event, or no check key trusted (one role: every signer may sign
            # anything): proven by the sampled signatures that cover the chain.
            return None
        if key_id in self.check_ids:
            return f"a {action!r} event signed by check-result key {key_id}: only a decision key may sign it"
        return self.verify(key_id, signature, message)
