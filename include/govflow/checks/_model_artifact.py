"""A model artifact as bytes: read once, hashed, and loaded from those same bytes.

Loading by path invites a check-then-load race (hash the file, then re-open a
swapped one). A ``ModelArtifact`` holds the bytes that were hashed; every
loader reads ``data``, never the file again. The format comes from the name's
suffix and decides the loader: a pickle renamed ``.skops`` is handed to skops,
which refuses it without running it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from govflow.checks._result import CheckInputError
from govflow.hashing import sha256_bytes
from govflow.vocab import ArtifactFormat

FORMAT_BY_SUFFIX: dict[str, ArtifactFormat] = {
    ".skops": "skops",
    ".onnx": "onnx",
    ".joblib": "pickle",
    ".pkl": "pickle",
    ".pickle": "pickle",
}
CONVERT_HINT = (
    'convert it to a format that loads without running code: skops.io.dump(model, "model.skops") '
    "(scikit-learn, Fairlearn) or ONNX (skl2onnx.to_onnx)"
)
ERR_FORMAT_REFUSED = (
    "{name} is a {fmt} artifact, which {where} does not accept (accepted: {accepted}); {hint}"
)


def format_of(name: str | Path) -> ArtifactFormat:
    suffix = Path(str(name)).suffix.lower()
    fmt = FORMAT_BY_SUFFIX.get(suffix)
    if fmt is None:
        raise CheckInputError(
            f"unsupported model file type {suffix or '(none)'!r} for {name}: "
            f"use {', '.join(sorted(FORMAT_BY_SUFFIX))}"
        )
    return fmt


def require_format(name: str | Path, accepted: tuple[str, ...] | list[str], *, where: str) -> ArtifactFormat:
    """The artifact's format, if ``accepted`` lists it; else one line saying how to convert it."""
    fmt = format_of(name)
    if fmt not in accepted:
        hint = CONVERT_HINT if fmt == "pickle" else "convert it to an accepted format"
        raise CheckInputError(
            ERR_FORMAT_REFUSED.format(
                name=Path(str(name)).name, fmt=fmt, where=where, accepted=", ".join(accepted), hint=hint
            )
        )
    return fmt


@dataclass(frozen=True)
class ModelArtifact:
    """The bytes of a model file, their sha256 and the name they came from (the suffix names the format)."""

    data: bytes = field(repr=False)
    name: str
    sha256: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", sha256_bytes(self.data))

    @property
    def format(self) -> ArtifactFormat:
        return format_of(self.name)

    @classmethod
    def from_file(cls, path: str | Path) -> ModelArtifact:
        p = Path(path)
        try:
            data = p.read_bytes()  # the one read: everything after uses these bytes
        except FileNotFoundError as err:
            raise CheckInputError(f"model file not found: {p}") from err
        except OSError as err:
            raise CheckInputError(f"cannot read model file {p}: {err.strerror or err}") from err
        if not data:
            raise CheckInputError(f"empty model file: {p}")
        return cls(data=data, name=str(p))

    def expect(self, sha256: str | None, *, what: str = "artifact") -> ModelArtifact:
        """Self, if these bytes are the registered ones; a changed file is never loaded."""
        if sha256 and self.sha256 != sha256:
            raise CheckInputError(
                f"the {what} {Path(self.name).name} no longer matches the sha256 recorded at registration: "
                "not loading it"
            )
        return self
