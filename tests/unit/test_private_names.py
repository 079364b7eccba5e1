"""A ``_private`` module or name is imported only inside its own package.

What two packages (or two check families) share gets a public name (``govflow.checks.outcomes``,
``hashing.event_hash``, a package's ``__all__``); a private one can then change without a search
through the whole tree. The scan reads every module's imports (AST, TYPE_CHECKING and function-level
ones included) and resolves relative imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

INCLUDE = Path(__file__).resolve().parents[2] / "include"


def _module_name(path: Path, include: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(include).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(parts), is_package


def _owner(dotted: str) -> str | None:
    """The package a private module or name belongs to: the parent of its first ``_x`` part."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports(path: Path, include: Path) -> list[tuple[int, str]]:
    """(line, dotted target) for every imported module and every ``from M import name`` as M.name."""
    module, is_package = _module_name(path, include)
    here = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, target) for line, target in found if target.startswith("govflow.")]


def private_imports_across_packages(include: Path = INCLUDE) -> list[str]:
    problems = []
    for path in sorted((include / "govflow").rglob("*.py")):
        module, _ = _module_name(path, include)
        for line, target in _imports(path, include):
            owner = _owner(target)
            if owner is not None and not _inside(module, owner):
                problems.append(f"{path.relative_to(include)}:{line} imports {target} (private to {owner})")
    return problems


def test_no_module_imports_a_private_name_of_another_package():
    assert private_imports_across_packages() == []


def test_the_scan_sees_a_crossing_and_allows_a_sibling(tmp_path):
    assert _owner("govflow.checks.fairness._metrics.binary_metrics") == "govflow.checks.fairness"
    assert _owner("govflow.checks.explain._positive_label") == "govflow.checks.explain"
    assert _owner("govflow.checks.outcomes.choose_task") is None
    assert _inside("govflow.checks.fairness._judge", "govflow.checks.fairness")
    assert not _inside("govflow.checks.performance", "govflow.checks.fairness")
    fake = tmp_path / "govflow" / "checks"
    (fake / "fairness").mkdir(parents=True)
    (fake / "performance.py").write_text(
        "from govflow.checks.fairness._metrics import x\nfrom ._result import CheckResult\n"
    )
    (fake / "fairness" / "_judge.py").write_text("from ._metrics import y\nfrom .. import _io\n")
    assert private_imports_across_packages(tmp_path) == [
        "govflow/checks/performance.py:1 imports govflow.checks.fairness._metrics.x "
        "(private to govflow.checks.fairness)"
    ]
