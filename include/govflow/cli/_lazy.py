"""Subcommands whose modules are imported only when a command line reaches them.

``govflow check drift ...`` imports the check and drift command modules and nothing else: not the
database, the policy models, the HTTP client or the other checks' libraries, which is most of a
short command's time. The parser still offers every command:

- parsing a command name imports the module that registers it (``__call__``), just in time;
- listing the commands (``--help``, the usage error's choices are names only) imports them all,
  in table order, so the help shows every command with its help line (``_get_subactions``);
- ``load_everything`` imports every module below a parser (shell completion, tests, the walk
  over all commands).

Each table row names a module and the commands its ``register(subparsers)`` adds; a module that
adds other names than its row says, or that fails to import, is an error (never a missing command).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from govflow.cli._examples import add_examples

__all__ = ["CommandTable", "LazyCommands", "lazy_subcommands", "load_everything"]

# (module, the command names its register() adds), in --help order.
CommandTable = Sequence[tuple[str, tuple[str, ...]]]

if TYPE_CHECKING:
    _Base = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    _Base = argparse._SubParsersAction


class LazyCommands(_Base):
    """argparse's subparsers action, with each command's parser made by its module on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._table: list[tuple[str, tuple[str, ...]]] = []
        self._pending: dict[str, str] = {}  # command name -> module not imported yet

    def add_commands(self, table: CommandTable) -> None:
        """Offer ``table``'s commands; each module is imported when one of its commands is needed."""
        for module, names in table:
            self._table.append((module, tuple(names)))
            for name in names:
                if name in self._name_parser_map:
                    raise ValueError(f"command {name!r} is listed twice")
                # A stand-in, so the name is a valid choice; replaced by the module's own parser.
                self._name_parser_map[name] = self._parser_class(prog=f"{self._prog_prefix} {name}")
                self._pending[name] = module

    def load(self, name: str) -> None:
        """Import the module of command ``name`` (if it is one of ours and not imported yet)."""
        module = self._pending.get(name)
        if module is None:
            return
        names = dict(self._table)[module]
        imported = importlib.import_module(module)  # a module that fails to import is an error
        for each in names:
            del self._name_parser_map[each]
            del self._pending[each]
        before = set(self._name_parser_map)
        imported.register(self)
        added = set(self._name_parser_map) - before
        if added != set(names):
            raise RuntimeError(
                f"{module}.register() added the commands {sorted(added)}, but the command table lists "
                f"{sorted(names)}: update the table"
            )
        words = tuple(self._prog_prefix.split()[1:])  # "govflow check" -> ("check",)
        for each in names:
            add_examples(self._name_parser_map[each], (*words, each))
        self._keep_table_order()

    def load_all(self) -> None:
        for _, names in self._table:
            self.load(names[0])

    def _keep_table_order(self) -> None:
        # The choices (usage errors, completion) and the help lines in table order, however loaded.
        order = {name: i for i, (_, names) in enumerate(self._table) for name in names}
        parsers = sorted(self._name_parser_map.items(), key=lambda item: order.get(item[0], len(order)))
        self._name_parser_map.clear()
        self._name_parser_map.update(parsers)
        self._choices_actions.sort(key=lambda action: order.get(action.dest, len(order)))

    def _get_subactions(self) -> list[argparse.Action]:
        self.load_all()  # the help lists every command with its help line
        return super()._get_subactions()

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if isinstance(values, Sequence) and values and isinstance(values[0], str):
            self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


def lazy_subcommands(
    parser: argparse.ArgumentParser, table: CommandTable, *, dest: str, metavar: str
) -> LazyCommands:
    """Add a required subcommand to ``parser`` whose commands come from ``table``'s modules."""
    action = parser.add_subparsers(dest=dest, metavar=metavar, action=LazyCommands)
    assert isinstance(action, LazyCommands)
    action.required = True
    action.add_commands(table)
    return action


def load_everything(parser: argparse.ArgumentParser) -> None:
    """Import every command module below ``parser``, so its whole command tree is in place."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            if isinstance(action, LazyCommands):
                action.load_all()
            for sub in list(action.choices.values()):
                load_everything(sub)
