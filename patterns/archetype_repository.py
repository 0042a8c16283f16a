"""agent_memory_ltm items of archetypes, learned from every agent's decisions together (`*`).

  model pointer   pk agent:*#memory#ARCHETYPE   sk model             the current model's feature space, k, when
  archetype       pk agent:*#memory#ARCHETYPE   sk {model_id}#{nn}   centroid, label, outcome stats, member sample

A rebuild writes the new model's archetypes first and switches the pointer last, so a reader sees
one whole model, never a mix. The pointer names the model it replaced: those items stay one more
rebuild (a reader holding the old pointer can still read them), and the rebuild after deletes them.
Vectors keep four significant digits: 200 members of 40 features stay far below 400 KB.
"""

from dataclasses import dataclass
from typing import Any

from memsite import storage
from memsite.storage.tables import AGENT_MEMORY_LTM
from patterns.archetype_schemas import Archetype, ArchetypeModel

ALL_AGENTS = "*"
PARTITION = f"agent:{ALL_AGENTS}#memory#ARCHETYPE"
MODEL = "model"


def _writer() -> storage.Table:
    return storage.table(AGENT_MEMORY_LTM, "worker")


def _reader() -> storage.Table:
    return storage.table(AGENT_MEMORY_LTM)


def _round(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


def rounded(values: list[float]) -> list[float]:
    return [_round(value) for value in values]


def archetype_key(model_id: str, number: int) -> dict[str, str]:
    return {"pk": PARTITION, "sk": f"{model_id}#{number:02d}"}


@dataclass(frozen=True)
class Pointer:
    """The current model, the one it replaced (kept until the next switch), and the pointer's version."""

    model: ArchetypeModel
    previous_model_id: str | None
    previous_k: int
    version: int


def _pointer_from_item(item: dict[str, Any]) -> Pointer:
    return Pointer(
        model=ArchetypeModel.model_validate({k: item[k] for k in ArchetypeModel.model_fields if k in item}),
        previous_model_id=item.get("previous_model_id"),
        previous_k=int(item.get("previous_k", 0)),
        version=int(item["version"]),
    )


def pointer_find(*, consistent: bool = False) -> Pointer | None:
    item = (_writer() if consistent else _reader()).find({"pk": PARTITION, "sk": MODEL}, consistent=consistent)
    return _pointer_from_item(item) if item else None


def pointer_switch(model: ArchetypeModel, *, replacing: Pointer | None) -> None:
    """Make `model` current, unless another rebuild switched the pointer since `replacing` was
    read: then storage.Conflict, and that rebuild's model stays."""
    changes = model.model_dump(mode="python") | {
        "previous_model_id": replacing.model.model_id if replacing else None,
        "previous_k": replacing.model.k if replacing else None,
    }
    _writer().update_versioned(
        {"pk": PARTITION, "sk": MODEL}, changes, expected_version=replacing.version if replacing else 0
    )


def _archetype_item(archetype: Archetype) -> dict[str, Any]:
    record = archetype.model_dump(mode="python")
    record["centroid"] = rounded(archetype.centroid)
    # A few values per archetype, shown to people: a price keeps its units digit.
    record["typical"] = {name: _round(value, 6) for name, value in archetype.typical.items()}
    record["members"] = [member | {"vector": rounded(member["vector"])} for member in record["members"]]
    return archetype_key(archetype.model_id, archetype.number) | record


def _archetype_from_item(item: dict[str, Any]) -> Archetype:
    return Archetype.model_validate({k: item[k] for k in Archetype.model_fields if k in item})


def archetypes_put(archetypes: list[Archetype]) -> None:
    _writer().batch_write(_archetype_item(archetype) for archetype in archetypes)


def archetypes_of(model_id: str) -> list[Archetype]:
    """A model's archetypes, by number: one Query of at most K_RANGE's largest k items. Consistent:
    a pointer read just after a switch must find its model's items (readers keep what they read)."""
    items = _reader().query_all(
        PARTITION,
        sort=storage.SortCondition.begins_with(f"{model_id}#"),
        newest_first=False,
        limit=100,
        consistent=True,
    )
    return [_archetype_from_item(item) for item in items]


def archetypes_delete(model_id: str, k: int) -> None:
    for number in range(k):
        _writer().delete(archetype_key(model_id, number))
