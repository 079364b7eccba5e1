"""Printing results: exactly one JSON object with --json, readable lines without."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govflow.errors import BadInputError

# Names that read as one document: refused where --out is a folder of several.
DOCUMENT_SUFFIXES = (".html", ".htm", ".md", ".markdown", ".pdf", ".json", ".yaml", ".yml", ".zip", ".svg")


def to_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=False, default=_default, allow_nan=False)


def emit(payload: dict[str, Any], *, as_json: bool, lines: list[str] | None = None) -> None:
    """Print ``payload`` as one JSON object, or ``lines`` (default: key: value) for people."""
    if as_json:
        sys.stdout.write(to_json(_finite(payload)) + "\n")
        return
    for line in lines if lines is not None else [f"{k}: {v}" for k, v in payload.items()]:
        print(line)


def _finite(obj: Any) -> Any:
    # JSON has no NaN/Infinity; an undefined metric is null.
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _default(obj: Any) -> Any:
    import datetime as dt
    from pathlib import Path

    if isinstance(obj, (dt.datetime, dt.date)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return _finite(obj.item())
    if hasattr(obj, "tolist"):
        return _finite(obj.tolist())
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --out means one thing: the file when a command writes one document, the folder when it writes
# several. Checked before any work is done, so a refused name leaves nothing behind.


def out_file(out: str | Path, *, suffixes: Sequence[str], flag: str = "--out") -> Path:
    """``out`` as the one file a command writes: not a folder, and ending in one of ``suffixes``."""
    path = Path(out).expanduser()
    wanted = " or ".join(suffixes) if len(suffixes) < 3 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
    if path.is_dir() or str(out).endswith(("/", "\\")):
        raise BadInputError(
            f"{flag} {out} is a folder, but one file is written: give a file name ending in {wanted}"
        )
    if path.suffix.lower() not in suffixes:
        raise BadInputError(f"{flag} {out}: one file is written; give a name ending in {wanted}")
    return path


def out_folder(out: str | Path, *, documents: Sequence[str], flag: str = "--out", hint: str = "") -> Path:
    """``out`` as the folder a command writes several ``documents`` into: a name that reads as
    one document (``card.html``) or an existing file is refused, with ``hint`` on how to get one."""
    path = Path(out).expanduser()
    several = f"{len(documents)} documents ({', '.join(documents)})"
    if path.suffix.lower() in DOCUMENT_SUFFIXES or (path.exists() and not path.is_dir()):
        raise BadInputError(
            f"{flag} {out} names one file, but {several} are written into a folder: "
            f"give a folder (e.g. {flag} {path.with_suffix('').name or 'docs'}/){hint}"
        )
    return path


def wrote_line(paths: Sequence[str | Path], *, folder: str | Path | None = None) -> str:
    """What a command wrote, for people: the file, or the folder and the files in it."""
    if folder is None:
        return f"wrote file {paths[0]}"
    names = ", ".join(Path(p).name for p in paths)
    return f"wrote {len(paths)} files into folder {Path(folder)}/: {names}"
