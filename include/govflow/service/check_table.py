"""The one table of governance checks: its name, the data it reads, its runner, and which DAGs run it.

The gate DAG (``governance_gate``) runs the ``gate`` checks on the files a
version was registered with; the nightly DAG (``nightly_compliance``) runs the
``nightly`` checks on a production model's newest data batch. Both go through
``service.pipeline.run_check``, which looks the check up here.

The table is derived from the check families: one row per family that declares
a ``Pipeline`` (``checks/<name>/_family.py``), in the registry's order, so a
new family needs no line here. It is read when asked (``checks()``,
``gate_checks()``, ``nightly_checks()``), so a family registered at run time
(``checks.family.registered``) has its row.

This module is light (no DB, no heavy library): the DAG files import it while
parsing to name their check tasks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from dataclasses import dataclass

from govflow.checks.family import CheckFamily, families
from govflow.checks.running import Missing
from govflow.config import heavy_queue
from govflow.errors import BadInputError
from govflow.service.check_runners import Runner, runner
from govflow.service.inputs import VersionInputs

__all__ = [
    "CheckSpec",
    "Missing",
    "NightlyTask",
    "check_spec",
    "checks",
    "gate_checks",
    "nightly_checks",
    "nightly_task_of",
    "nightly_tasks",
    "task_queue",
]


@dataclass(frozen=True)
class CheckSpec:
    """One governance check: how it runs and what it reads (its family's ``Pipeline``).

    ``registered`` picks the registered file the gate runs it on (or says why
    there is none); ``also_reads`` names the other registered files the runner
    opens (made local and verified on the worker); ``on_batch`` says why a
    production batch (its columns, its name) cannot be checked: it lacks what the check needs.
    ``run`` is the service's runner (``check_runners.run`` for this check).
    """

    name: str
    run: Runner
    registered: Callable[[VersionInputs], str | Missing]
    also_reads: tuple[str, ...] = ()
    gate: bool = False
    nightly: bool = False
    on_batch: Callable[[VersionInputs, Collection[str], str], Missing | None] | None = None
    heavy: bool = False


@functools.cache
def _table(declared: tuple[CheckFamily, ...]) -> dict[str, CheckSpec]:
    # One dict per registry state: a test patching a row (monkeypatch.setitem) patches the table.
    return {
        f.name: CheckSpec(
            name=f.name,
            run=runner(f.name),
            registered=f.pipeline.registered,
            also_reads=f.pipeline.also_reads,
            gate=f.pipeline.gate,
            nightly=f.pipeline.nightly,
            on_batch=f.pipeline.on_batch,
            heavy=f.pipeline.heavy,
        )
        for f in declared
        if f.pipeline is not None
    }


def checks() -> dict[str, CheckSpec]:
    """The table: one row per family with a pipeline, in the registry's order."""
    return _table(families())


def gate_checks() -> tuple[str, ...]:
    """governance_gate's check tasks, in table order."""
    return tuple(name for name, spec in checks().items() if spec.gate)


def nightly_checks() -> tuple[str, ...]:
    """nightly_compliance's check tasks (per group of models), in table order."""
    return tuple(name for name, spec in checks().items() if spec.nightly)


@dataclass(frozen=True)
class NightlyTask:
    """One task of a nightly group: the checks it runs for each model of the group, and whether it
    then renders those models' documentation (after their results are written, ``tasks.nightly``);
    ``queue`` holds its operator kwargs."""

    task_id: str
    checks: tuple[str, ...]
    documents: bool
    queue: dict[str, str]


def nightly_tasks() -> tuple[NightlyTask, ...]:
    """nightly_compliance's tasks per group, read when the DAG file is parsed.

    Without a heavy queue, one task runs every nightly check of each model and then its documentation:
    a task costs a process, Airflow's round trips and a DB and object-store session, paid once per
    group instead of once per check. With a heavy queue, its checks get their own task there (only
    some workers have the memory), and the documentation waits for both in a third task.
    """
    names = nightly_checks()
    heavy = heavy_queue()
    if not heavy:
        return (NightlyTask("checks", names, documents=True, queue={}),)
    table = checks()
    split = (
        NightlyTask("checks", tuple(n for n in names if not table[n].heavy), documents=False, queue={}),
        NightlyTask("heavy_checks", tuple(n for n in names if table[n].heavy), documents=False, queue=heavy),
        NightlyTask("documentation", (), documents=True, queue={}),
    )
    return tuple(task for task in split if task.checks or task.documents)


def nightly_task_of(check: str) -> str:
    """The id (inside its group) of the nightly task that runs ``check``; the documenting task for
    the documentation and for a check nightly does not run."""
    plan = nightly_tasks()
    running = [task.task_id for task in plan if check in task.checks]
    return running[0] if running else next(task.task_id for task in plan if task.documents)


def task_queue(name: str) -> dict[str, str]:
    """Operator kwargs placing check ``name``'s DAG task: a heavy family's on the heavy queue
    when one is configured (``config.heavy_queue``), every other on Airflow's default queue.
    Read when the DAG file is parsed."""
    return heavy_queue() if checks()[name].heavy else {}


def check_spec(name: str, *, among: Collection[str] | None = None) -> CheckSpec:
    """The table row of ``name``; a name outside ``among`` (or the table) is a one-line BadInputError."""
    table = checks()
    choices = tuple(among) if among is not None else tuple(table)
    if name not in choices:
        raise BadInputError(f"unknown check {name!r}: choose one of {', '.join(choices)}")
    return table[name]
