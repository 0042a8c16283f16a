"""Writes of pattern definitions: create, update (optimistic: the version you edited), delete,
and importing a whole file of them, validated in full before anything is written."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from memsite import storage
from memsite.errors import AlreadyExists, DoesNotExist, PermissionDenied, ValidationFailed
from memsite.validation import unstorable, validated, validation_failed
from patterns import consolidation, memory_repository, repository
from patterns.memory_schemas import PatternState
from patterns.schemas import PATTERN_ID, PatternDefinition, PatternDefinitionIn


@dataclass(frozen=True)
class Editor:
    label: str
    may_edit: bool  # operators and admins


def _allowed(editor: Editor) -> None:
    if not editor.may_edit:
        raise PermissionDenied("only operators and admins edit pattern definitions")


def _stored(data: PatternDefinitionIn, editor: Editor, version: int) -> PatternDefinition:
    return PatternDefinition(
        **data.model_dump(), version=version, updated_at=datetime.now(UTC), updated_by=editor.label
    )


def definition_create(*, raw: Any, editor: Editor) -> PatternDefinition:
    _allowed(editor)
    definition = _stored(validated(PatternDefinitionIn, raw), editor, version=1)
    try:
        existing = repository.definition_create(definition)
    except storage.InvalidValue as error:
        raise unstorable(error) from None
    if existing is not None:
        raise AlreadyExists(f"a pattern definition {definition.id!r} exists already", fields={"id": "taken"})
    return definition


def definition_update(*, pattern_id: str, raw: Any, editor: Editor) -> PatternDefinition:
    """The body is the whole definition plus expected_version (the version you edited)."""
    _allowed(editor)
    if not isinstance(raw, dict):
        raise ValidationFailed("body: a definition is a JSON object", fields={"body": "expected an object"})
    body = dict(raw)
    expected = body.pop("expected_version", None)
    if not isinstance(expected, int) or isinstance(expected, bool) or expected < 1:
        raise ValidationFailed(
            "expected_version: the version you edited (1 or more)", fields={"expected_version": "required"}
        )
    data = validated(PatternDefinitionIn, body | {"id": pattern_id})
    try:
        return repository.definition_update(_stored(data, editor, expected + 1), expected_version=expected)
    except storage.NotFound:
        raise DoesNotExist(f"no pattern definition {pattern_id!r}") from None
    except storage.Conflict as conflict:
        current = (conflict.current or {}).get("version")
        raise AlreadyExists(
            f"pattern definition {pattern_id!r} is at version {current}, not {expected}: someone saved it meanwhile",
            code="stale_version",
            fields={"expected_version": f"current is {current}"},
        ) from None
    except storage.InvalidValue as error:
        raise unstorable(error) from None


def definition_delete(*, pattern_id: str, editor: Editor) -> None:
    _allowed(editor)
    if not PATTERN_ID.match(pattern_id) or repository.definition_find(pattern_id) is None:
        raise DoesNotExist(f"no pattern definition {pattern_id[:70]!r}")
    repository.definition_delete(pattern_id)


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def definitions_import(*, entries: Any, editor: Editor, replace: bool = True) -> ImportResult:
    """Import a file's definitions: all are validated first, and one bad entry stops the import
    before anything is written. Existing ids are updated (or, with replace=False, left alone)."""
    if not isinstance(entries, list):
        raise ValidationFailed("patterns: a list of definitions", fields={"patterns": "expected a list"})
    checked = []
    for position, entry in enumerate(entries):
        try:
            checked.append(PatternDefinitionIn.model_validate(entry))
        except ValidationError as error:
            raise validation_failed(error, prefix=f"patterns[{position}].") from None
    ids = [d.id for d in checked]
    if len(ids) != len(set(ids)):
        raise ValidationFailed("patterns: an id appears twice", fields={"patterns": "duplicate ids"})
    result = ImportResult(created=[], updated=[], unchanged=[])
    for data in checked:
        current = repository.definition_find(data.id)
        if current is None:
            definition_create(raw=data.model_dump(), editor=editor)
            result.created.append(data.id)
        elif (
            PatternDefinitionIn.model_validate(current.model_dump(include=set(PatternDefinitionIn.model_fields)))
            == data
            or not replace
        ):
            result.unchanged.append(data.id)
        else:
            body = data.model_dump() | {"expected_version": current.version}
            definition_update(pattern_id=data.id, raw=body, editor=editor)
            result.updated.append(data.id)
    return result


def pattern_override(
    *, pattern_id: str, agent_id: str | None, override: str | None, reason: str, editor: Editor
) -> PatternState:
    """Pin or suspend a learned pattern (None: back to what learning says); kept in its history."""
    _allowed(editor)
    if override not in (None, "pinned", "suspended"):
        raise ValidationFailed("override: pinned, suspended or null", fields={"override": "pinned, suspended or null"})
    if not PATTERN_ID.match(pattern_id):
        raise DoesNotExist(f"no pattern {pattern_id[:70]!r}")
    stored = memory_repository.state_find(pattern_id, memory_repository.scope_of(agent_id))
    if stored is None:
        scope = f"agent {agent_id}" if agent_id else "all agents"
        raise DoesNotExist(f"pattern {pattern_id!r} has not been learned for {scope} yet")
    label = override or f"back to learned ({stored.state.learned_status})"
    consolidation.set_status(stored.state, override=override, by=editor.label, reason=reason or label)
    return memory_repository.state_find(pattern_id, memory_repository.scope_of(agent_id)).state
