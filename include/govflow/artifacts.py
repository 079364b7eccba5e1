"""Content-addressed artifact store for evidence, rendered documents and bundles.

Objects are named by their sha256, so writing the same evidence twice stores
it once, and a stored object can always be checked against its name. The root
is a local folder by default, or any fsspec URL (s3://, gs://, ...) in production.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow import config
from govflow.errors import BadInputError
from govflow.hashing import canonical_json, sha256_bytes, sha256_file


@dataclass(frozen=True)
class StoredArtifact:
    uri: str
    sha256: str
    size: int


class ArtifactStore:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or config.artifacts_root()
        self._is_local = "://" not in self.root or self.root.startswith("file://")

    def _location(self, sha256: str, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{sha256[:2]}/{sha256}{suffix}"

    def put_bytes(self, data: bytes, *, suffix: str = "") -> StoredArtifact:
        digest = sha256_bytes(data)
        location = self._location(digest, suffix)
        if self._is_local:
            path = Path(location.removeprefix("file://"))
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # Write then rename: readers never see a half-written object.
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            return StoredArtifact(uri=str(path), sha256=digest, size=len(data))
        import fsspec

        with fsspec.open(location, "wb") as handle:
            handle.write(data)
        return StoredArtifact(uri=location, sha256=digest, size=len(data))

    def put_file(self, path: str | Path, *, suffix: str = "") -> StoredArtifact:
        """Store a file's content without loading it into memory (bundles can be large)."""
        import shutil

        source = Path(path)
        digest, size = sha256_file(source), source.stat().st_size
        location = self._location(digest, suffix)
        if self._is_local:
            target = Path(location.removeprefix("file://"))
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
                os.close(fd)
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            return StoredArtifact(uri=str(target), sha256=digest, size=size)
        import fsspec

        with source.open("rb") as handle, fsspec.open(location, "wb") as out:
            shutil.copyfileobj(handle, out)
        return StoredArtifact(uri=location, sha256=digest, size=size)

    def put_json(self, obj: Any) -> StoredArtifact:
        return self.put_bytes(canonical_json(obj).encode("utf-8"), suffix=".json")

    def put_text(self, text: str, *, suffix: str) -> StoredArtifact:
        return self.put_bytes(text.encode("utf-8"), suffix=suffix)

    def get_bytes(self, uri: str) -> bytes:
        if "://" not in uri or uri.startswith("file://"):
            path = Path(uri.removeprefix("file://"))
            if not path.is_file():
                raise BadInputError(f"artifact not found: {uri}")
            return path.read_bytes()
        import fsspec

        with fsspec.open(uri, "rb") as handle:
            return handle.read()

    def verify(self, uri: str, sha256: str) -> bool:
        return sha256_bytes(self.get_bytes(uri)) == sha256
