"""Agent configuration: validated, versioned, diffable, reversible, audited.

Writes (config_save, config_rollback) and reads (config_current, config_versions, config_diff)
live together here because they share the version arithmetic; views and API stay thin.
"""

import contextlib
import difflib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents import config_repository, repository
from agents.config_schemas import defaults_for, schema_for
from agents.models import ConfigChange
from agents.schemas import AGENT_ID_PATTERN, ConfigVersion
from memsite import storage
from memsite.errors import AlreadyExists, DoesNotExist, PayloadTooLarge, PermissionDenied, ValidationFailed
from memsite.validation import unstorable, validated, validation_failed

MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True)
class Editor:
    label: str
    may_edit: bool  # operators and admins


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: dict[str, Any]
    note: str = Field(min_length=1, max_length=500)
    expected_version: int = Field(ge=0, strict=True)


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_version: int = Field(ge=0, strict=True, description="0: the kind's defaults")
    note: str = Field(min_length=1, max_length=500)
    expected_version: int = Field(ge=1, strict=True)


def _kind(agent_id: str) -> str:
    profile = repository.profile_find(agent_id) if AGENT_ID_PATTERN.match(agent_id) else None
    if profile is None:
        raise DoesNotExist(f"no agent {agent_id}")
    return profile.kind


def _defaults(agent_id: str) -> ConfigVersion:
    """Version 0: not stored, the defaults of the agent's kind (what it runs before any save)."""
    kind = _kind(agent_id)
    return ConfigVersion(
        agent_id=agent_id,
        version=0,
        document=as_stored(defaults_for(kind)),
        author="defaults",
        created_at=datetime.now(UTC),
        note=f"the defaults of kind {kind}",
    )


def config_current(*, agent_id: str) -> ConfigVersion:
    """The latest version; before the first save, version 0."""
    _kind(agent_id)
    return config_repository.version_latest(agent_id) or _defaults(agent_id)


def config_versions(*, agent_id: str) -> list[ConfigVersion]:
    _kind(agent_id)
    return sorted(config_repository.versions_list(agent_id), key=lambda v: v.version, reverse=True)


def config_version(*, agent_id: str, version: int) -> ConfigVersion:
    if version == 0:
        return _defaults(agent_id)
    found = config_repository.version_find(agent_id, version)
    if found is None:
        raise DoesNotExist(f"agent {agent_id} has no configuration version {version}")
    return found


def config_validate(*, agent_id: str, document: Any) -> dict[str, Any]:
    """The document as the kind's schema reads it, or ValidationFailed naming each bad field."""
    if not isinstance(document, dict):
        raise ValidationFailed("document: a configuration is a JSON object", fields={"document": "expected an object"})
    size = len(json.dumps(document).encode())
    if size > MAX_CONFIG_BYTES:
        raise PayloadTooLarge(f"the configuration is {size} bytes; the limit is {MAX_CONFIG_BYTES}")
    try:
        checked = schema_for(_kind(agent_id)).model_validate(document)
    except ValidationError as error:
        raise validation_failed(error, prefix="document.") from None
    # Python mode: JSON mode would turn an overflowing number (1e400 parses as inf) into null.
    return as_stored(checked.model_dump(mode="python"))


def as_stored(document: dict[str, Any]) -> dict[str, Any]:
    """The document as it reads back from storage (750.0 comes back as 750), so diffs and
    comparisons never show a change that is only a number's spelling."""
    try:
        return storage.codec.decode_value(storage.codec.encode_value(document, "document"))
    except storage.InvalidValue as error:
        raise unstorable(error) from None


def config_save(*, agent_id: str, raw: Any, editor: Editor, rollback_of: int | None = None) -> ConfigVersion:
    """Write version expected_version + 1. If someone saved in between, AlreadyExists (409)
    names the version they saved and who; nothing is written."""
    _may_edit(editor)
    data = validated(SaveIn, raw)
    document = config_validate(agent_id=agent_id, document=data.document)
    current = config_current(agent_id=agent_id)
    if _is_this_save(current, data, document, editor):
        return _saved_before(current, agent_id, rollback_of)
    if data.expected_version > current.version:
        detail = f"there is no version {data.expected_version} yet: the current version is {current.version}"
        raise ValidationFailed(f"expected_version: {detail}", fields={"expected_version": detail})
    if data.expected_version != current.version:
        raise _stale(agent_id, data.expected_version, current)
    new = ConfigVersion(
        agent_id=agent_id,
        version=current.version + 1,
        document=document,
        author=editor.label,
        created_at=datetime.now(UTC),
        note=data.note,
    )
    try:
        taken = config_repository.version_create(new)
    except storage.InvalidValue as error:
        raise unstorable(error) from None
    if taken is not None:
        if _is_this_save(taken, data, document, editor):
            return _saved_before(taken, agent_id, rollback_of)
        raise _stale(agent_id, data.expected_version, taken)
    _audit(new, current, rollback_of)
    return new


def _may_edit(editor: Editor) -> None:
    if not editor.may_edit:
        raise PermissionDenied("only operators and admins edit configurations")


def _is_this_save(version: ConfigVersion, data: SaveIn, document: dict[str, Any], editor: Editor) -> bool:
    """A retry of a save that went through (its reply was lost, or the audit step failed)."""
    return (
        version.version == data.expected_version + 1
        and version.author == editor.label
        and version.note == data.note
        and version.document == document
    )


def _saved_before(version: ConfigVersion, agent_id: str, rollback_of: int | None) -> ConfigVersion:
    """Finish what the first attempt may not have: its audit row."""
    _audit(version, config_version(agent_id=agent_id, version=version.version - 1), rollback_of)
    return version


def _stale(agent_id: str, expected: int, newer: ConfigVersion) -> AlreadyExists:
    return AlreadyExists(
        f"version {newer.version} of {agent_id}'s configuration was saved by {newer.author} at "
        f"{newer.created_at:%Y-%m-%d %H:%M:%S} UTC after the version {expected} you edited; "
        f"review the difference and save again",
        code="stale_version",
        fields={"expected_version": f"current is {newer.version}"},
    )


def config_rollback(*, agent_id: str, raw: Any, editor: Editor) -> ConfigVersion:
    """A new version whose document is an older version's: history only grows."""
    # The role first: a viewer learns nothing about which versions exist, and gets the 403 it is due.
    _may_edit(editor)
    data = validated(RollbackIn, raw)
    target = config_version(agent_id=agent_id, version=data.to_version)
    body = {"document": target.document, "note": data.note, "expected_version": data.expected_version}
    return config_save(agent_id=agent_id, raw=body, editor=editor, rollback_of=target.version)


def _audit(new: ConfigVersion, previous: ConfigVersion, rollback_of: int | None) -> None:
    changes = [[path, old, value] for path, old, value in changed_paths(previous.document, new.document)]
    with contextlib.suppress(IntegrityError):  # a retried save already logged this version
        ConfigChange.objects.create(
            agent_id=new.agent_id,
            version=new.version,
            actor=new.author,
            note=new.note,
            changes=changes,
            rollback_of=rollback_of,
        )


def _flatten(document: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(document, dict) and document:
        flat: dict[str, Any] = {}
        for key, value in document.items():
            flat |= _flatten(value, f"{prefix}{key}.")
        return flat
    return {prefix.rstrip("."): document}


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(dotted path, old, new) for every leaf that differs; a missing side is None."""
    old, new = _flatten(before), _flatten(after)
    return [
        (path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


def _pretty(document: dict[str, Any]) -> list[str]:
    return json.dumps(document, indent=2, sort_keys=True).splitlines()


def config_diff(
    before: dict[str, Any], after: dict[str, Any], *, before_label: str, after_label: str
) -> list[tuple[str, str]]:
    """A unified diff of the two documents as pretty JSON: (kind, line), kind in
    'header', 'hunk', 'add', 'remove', 'same'. Empty when they are equal."""
    lines = difflib.unified_diff(_pretty(before), _pretty(after), before_label, after_label, lineterm="", n=3)
    kinds = []
    for line in lines:
        if line.startswith(("---", "+++")):
            kinds.append(("header", line))
        elif line.startswith("@@"):
            kinds.append(("hunk", line))
        elif line.startswith("+"):
            kinds.append(("add", line))
        elif line.startswith("-"):
            kinds.append(("remove", line))
        else:
            kinds.append(("same", line))
    return kinds
