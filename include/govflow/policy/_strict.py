"""The strict base of every policy and rule-pack model, and the entity-name rule they share."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

_ENTITY = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def entity_names(values: Sequence[str]) -> list[str]:
    for value in values:
        if not _ENTITY.match(value):
            raise ValueError(f"entity {value!r} must be UPPER_SNAKE_CASE like EMAIL_ADDRESS")
    return sorted(set(values))
