"""Ed25519 signing of audit events, audit checkpoints and bundle manifests.

The private key never lives in the governance database, so someone who can
write to the database (a leaked DB password, a DBA) cannot forge or re-sign
events. Where the signing key comes from, first match wins:

1. ``GOVFLOW_SIGNING_KEY``: the key itself (PEM, or base64 of the 32-byte seed);
2. ``GOVFLOW_SIGNING_KEY_FILE``: a PEM file (mode 0600, owned by the service account);
3. ``GOVFLOW_SIGNING_KEY_VARIABLE``: the name of an Airflow Variable, read through
   Airflow's secrets backend (Vault, AWS SM, ...); ``AIRFLOW_VAR_<NAME>`` works too;
4. the local key ``$GOVFLOW_HOME/keys/audit-signing.pem``, generated (0600) on
   first use: for the embedded single-machine setup and the demo only.

Verification needs only public keys: the signing key's own, and every
``*.pub`` in ``GOVFLOW_TRUSTED_KEYS_DIR`` (default ``$GOVFLOW_HOME/keys``),
which is where a rotated-out key's public half is kept. A process that signs
can read its key: an attacker with a shell on a worker can sign too; the
checkpoints (kept outside the database) bound what they can rewrite unseen.
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

from govflow import config, settings
from govflow.errors import BadInputError

LOCAL_KEY_NAME = "audit-signing.pem"
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


def signing_key() -> SigningKey:
    """The configured signing key (cached per source; a changed file is re-read within a second)."""
    global _last
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
        env.get("GOVFLOW_SIGNING_KEY"),
        settings.signing_key_file(),  # GOVFLOW_SIGNING_KEY_FILE, or [govflow] signing_key_file
        env.get("GOVFLOW_SIGNING_KEY_VARIABLE"),
        env.get("GOVFLOW_HOME"),
    )


def _source() -> tuple[str, ...]:
    if os.environ.get("GOVFLOW_SIGNING_KEY"):
        return ("env", os.environ["GOVFLOW_SIGNING_KEY"])
    path = settings.signing_key_file()
    if path:
        return ("file", path, str(_mtime(Path(path))))
    variable = os.environ.get("GOVFLOW_SIGNING_KEY_VARIABLE")
    if variable:
        return ("variable", variable)
    local = config.home() / "keys" / LOCAL_KEY_NAME
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
    if kind == "file":
        try:
            _refuse_shared(Path(where))
            text = Path(where).read_text()
        except OSError as err:
            raise BadInputError(f"GOVFLOW_SIGNING_KEY_FILE {where}: {err.strerror or err}") from err
        return _key(parse_private_key(text, what=where), where)
    if kind == "variable":
        return _key(parse_private_key(_airflow_variable(where), what=f"Airflow Variable {where}"), where)
    return _key(_local_key(Path(where)), where)


def _key(private: Ed25519PrivateKey, source: str) -> SigningKey:
    return SigningKey(private=private, key_id=key_id_of(private.public_key()), source=source)


def _airflow_variable(name: str) -> str:
    env = os.environ.get(f"AIRFLOW_VAR_{name.upper()}")
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
    """Trusted public keys by key id: the signing key's own plus the trusted keys folder."""

    def __init__(self, keys: dict[str, Ed25519PublicKey]) -> None:
        self.keys = keys

    @classmethod
    def trusted(cls, extra: list[Path] | None = None, *, include_signing_key: bool = True) -> Keyring:
        keys: dict[str, Ed25519PublicKey] = {}
        source = _source()
        # Verifying never generates a key: the local one counts only once it exists.
        if include_signing_key and not (source[0] == "local" and not Path(source[1]).exists()):
            public = signing_key().public
            keys[key_id_of(public)] = public
        folder = keys_dir()
        files = sorted(folder.glob("*.pub")) if folder.is_dir() else []
        for path in [*files, *(extra or [])]:
            try:
                public = parse_public_key(path.read_text(), what=str(path))
            except OSError as err:
                raise BadInputError(f"public key {path}: {err.strerror or err}") from err
            keys[key_id_of(public)] = public
        return cls(keys)

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
