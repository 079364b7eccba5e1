"""Documentation notes: what only people know (limitations, oversight measures...), as a small YAML file.

    limitations:
      - Trained on 1994 US census data; not representative of today's EU applicants.
    human_oversight: A credit officer reviews every refusal before it is sent.

Values are text or lists of text. Unknown keys are refused (a typo would
otherwise leave a section silently undocumented).
"""

from __future__ import annotations

from typing import Any

from govflow.errors import BadInputError

# key -> what it documents (shown in the gap when it is missing)
NOTE_KEYS: dict[str, str] = {
    "out_of_scope_uses": "uses the model is not meant for",
    "training_data": "provenance, scope, selection, labelling and cleaning of the training data",
    "metrics_rationale": "why these performance metrics are appropriate",
    "limitations": "known limitations",
    "recommendations": "recommendations for deployers and users",
    "risks": "identified risks and their mitigations",
    "human_oversight": "human oversight measures",
    "robustness": "robustness and cybersecurity measures",
    "monitoring": "the post-market monitoring plan",
    "transparency": "information given to deployers and affected people",
    "changes": "predetermined changes to the system and its performance",
    "standards": "harmonised standards or other specifications applied",
    "declaration_of_conformity": "the EU declaration of conformity (reference)",
    "ethical_considerations": "ethical considerations",
}


def parse_notes(text: str, *, source: str = "<notes>") -> dict[str, str | list[str]]:
    """Validate notes YAML: a mapping of known keys to text or lists of text."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise BadInputError(f"notes {source}: invalid YAML") from err
    if data is None:
        return {}
    return validate_notes(data, source=source)


def validate_notes(data: Any, *, source: str = "<notes>") -> dict[str, str | list[str]]:
    if not isinstance(data, dict):
        raise BadInputError(f"notes {source}: expected a mapping of note keys, got {type(data).__name__}")
    unknown = sorted(str(k) for k in data if k not in NOTE_KEYS)
    if unknown:
        raise BadInputError(
            f"notes {source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(NOTE_KEYS)}"
        )
    notes: dict[str, str | list[str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            notes[key] = value.strip()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            notes[key] = [v.strip() for v in value if v.strip()]
        else:
            raise BadInputError(f"notes {source}: {key} must be text or a list of text")
    return notes
