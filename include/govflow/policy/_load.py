"""Reading a policy file: YAML -> validated ``Policy``, refusing bad ones with the bad field's path."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from govflow import config
from govflow.errors import PolicyError
from govflow.hashing import sha256_text
from govflow.policy._models import Policy


def canonical_text(raw: bytes | str) -> str:
    """The content the policy sha256 is taken over: UTF-8 text, no BOM, LF line endings.

    Normalising line endings keeps the hash stable across a Windows checkout
    while still changing on any edit a reviewer could see.
    """
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def policy_sha256(raw: bytes | str) -> str:
    return sha256_text(canonical_text(raw))


def load_policy(path: str | Path | None = None) -> Policy:
    """Load and validate the policy at ``path`` (default: ``config.policy_path()``)."""

    where = Path(path) if path is not None else config.policy_path()
    try:
        raw = where.read_bytes()
    except OSError as err:
        raise PolicyError(f"cannot read policy {where}: {err.strerror or err}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PolicyError(f"policy {where}: not UTF-8 text ({err.reason} at byte {err.start})") from err
    return parse_policy(text, source=str(where))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate policy YAML text; used for files and for policies stored with decisions."""
    import yaml

    text = canonical_text(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"policy {source}: invalid YAML{_yaml_where(err)}") from err
    if not isinstance(data, dict):
        raise PolicyError(f"policy {source}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as err:
        raise PolicyError(f"policy {source}: {format_validation_error(err)}") from err
    policy._sha256 = sha256_text(text)  # text is canonical already
    policy._source = source
    policy._text = text
    return policy


def format_validation_error(err: ValidationError) -> str:
    """``tiers.high.approvals.count: Input should be a valid integer; ...`` on one line."""
    parts = []
    for item in err.errors(include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{field_path(item['loc'])}: {message}")
    return "; ".join(parts)


def field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(top level)"


def _yaml_where(err: Exception) -> str:
    mark = getattr(err, "problem_mark", None)
    problem = getattr(err, "problem", None) or ""
    if mark is None:
        return f": {problem or err}".rstrip(": ")
    return f" at line {mark.line + 1} column {mark.column + 1}: {problem}".rstrip(": ")
