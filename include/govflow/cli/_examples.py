"""One example per command, shown at the end of its ``--help``.

Kept in one table so every command has one and a test can parse each example with the real
parser (an example that no longer parses fails the test). A command module may instead set
its own ``epilog`` starting with ``example:``; ``add_examples`` leaves that alone.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

EXAMPLE_PREFIX = "example:"

EXAMPLES: dict[str, str] = {
    "db upgrade": "govflow db upgrade --json",
    "init": "govflow init deploy/govflow",
    "model register": 'govflow model register --name credit-risk --owner "Ana" --risk-tier high '
    "--region EU --sector finance",
    "model list": "govflow model list --json",
    "model show": "govflow model show credit-risk",
    "version register": "govflow version register --model credit-risk --version 1.0 "
    "--artifact model.joblib --training-data train.csv --eval-data eval.csv",
    "version list": "govflow version list --model credit-risk --stage production",
    "version show": "govflow version show --model credit-risk --version 1.0 --json",
    "audit verify": "govflow audit verify --json",
    "audit checkpoint": "govflow audit checkpoint --out checkpoint.json",
    "audit keygen": "govflow audit keygen --out signing-key.pem",
    "audit log": "govflow audit log --subject credit-risk@1.0 --limit 20",
    "policy apply": "govflow policy apply include/govflow/data/policies/default.yaml",
    "policy show": "govflow policy show --json",
    "policy impact": "govflow policy impact stricter.yaml --json",
    "policy packs": "govflow policy packs --model credit-risk --version 1.0",
    "check validation": "govflow check validation --data train.csv --suite suites/adult.yaml --json",
    "check pii": "govflow check pii --data train.csv --region EU --json",
    "check fairness": "govflow check fairness --data eval.csv --label income --prediction prediction "
    "--sensitive sex --positive-label '>50K' --json",
    "check drift": "govflow check drift --reference train.csv --current batch.csv --json",
    "gate": "govflow gate --model credit-risk --version 1.0",
    "gate replay": "govflow gate replay 4 --json",
    "approve": 'govflow approve --model credit-risk --version 1.0 --comment "evidence reviewed"',
    "waive": 'govflow waive --model credit-risk --version 1.0 --check drift --reason "seasonal shift, '
    'reviewed"',
    "promote": "govflow promote --model credit-risk --version 1.0 --to production",
    "docs render": "govflow docs render --model credit-risk --version 1.0 --format html --out docs/",
    "docs check": "govflow docs check --model credit-risk --version 1.0 --json",
    "docs notes": "govflow docs notes --model credit-risk --version 1.0 --file notes.yaml",
    "evidence export": "govflow evidence export --model credit-risk --version 1.0 --out bundle.zip",
    "evidence verify": "govflow evidence verify bundle.zip --json",
    "submit": "govflow submit --model credit-risk --version 1.1 --artifact model.joblib "
    "--training-data train.csv --eval-data eval.csv --label income --sensitive sex --trigger --wait",
    "explain": "govflow explain --model credit-risk --version 1.0 --json",
    "mitigate": "govflow mitigate --model credit-risk --version 1.0 --method threshold --register 1.1",
    "suite infer": "govflow suite infer --reference train.csv --out suites/mine.yaml",
    "completion": 'eval "$(govflow completion bash)"',
    "login": "govflow login --user rita --url https://airflow.example.org",
    "logout": "govflow logout",
}


class ExampleHelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, except that an ``example:`` epilog keeps its lines as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(EXAMPLE_PREFIX):
            return "\n".join(indent + line for line in text.splitlines())
        return super()._fill_text(text, width, indent)


def commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every runnable command under ``parser``: (its words, e.g. ``"check pii"``, its parser).

    ``words`` are ``parser``'s own (``("check",)`` for the parser of ``govflow check``). Commands
    whose modules are not imported yet (``_lazy``) are not walked: ``build_parser()`` imports all.
    """

    def walk(
        p: argparse.ArgumentParser, words: tuple[str, ...]
    ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
        if words and p.get_default("handler") is not None:
            yield " ".join(words), p
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*words, name))

    yield from walk(parser, words)


def add_examples(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> None:
    """Give every command under ``parser`` (whose words are ``words``) its example from ``EXAMPLES``
    (unless its module wrote one)."""
    for command_words, command in commands(parser, words):
        command.formatter_class = ExampleHelpFormatter
        if command.epilog and command.epilog.startswith(EXAMPLE_PREFIX):
            continue
        example = EXAMPLES.get(command_words)
        if example is not None:
            command.epilog = f"{EXAMPLE_PREFIX}\n  {example}"
