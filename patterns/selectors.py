"""Reads of pattern definitions."""

from memsite.errors import DoesNotExist
from patterns import repository
from patterns.schemas import PATTERN_ID, PatternDefinition


def definition_list() -> list[PatternDefinition]:
    return repository.definitions_list()


def definition_get(*, pattern_id: str) -> PatternDefinition:
    found = repository.definition_find(pattern_id) if PATTERN_ID.match(pattern_id) else None
    if found is None:
        raise DoesNotExist(f"no pattern definition {pattern_id[:70]!r}")
    return found
