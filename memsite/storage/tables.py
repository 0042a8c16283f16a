"""The four tables: the single source of truth for their keys, indexes and TTL.

`dynamodb_tables create`, the CloudFormation template, the status page and the tests
all read these specs. Key shapes are the user's (see docs/storage.md):

  agent_decisions   pk agent:{agent_id}#decision#{type}   sk {timestamp}#{decision_id}
  agent_memory_ltm  pk agent:{agent_id}#memory#{type}     sk {pattern_id} (plus version items)
  agent_state       pk agent:{agent_id}                   sk {state_type}
  agent_signals     pk signal#{type}                      sk {timestamp}#{signal_id}

Index partition keys that would gather every agent's traffic carry a day bucket
(type#TRADE_EXECUTION#2026-11-27), so no index partition grows without bound.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

AttributeType = Literal["S", "N"]
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]

# Every table uses the same generic key attribute names; what goes in them is the
# repositories' business (their _to_item / _from_item mappers).
PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None
    purpose: str
    key_types: dict[str, AttributeType] = field(default_factory=dict)
    projection: Projection = "ALL"
    sparse: bool = False
    included: tuple[str, ...] = ()  # the non-key attributes an INCLUDE projection carries

    def attribute_type(self, attribute: str) -> AttributeType:
        return self.key_types.get(attribute, "S")

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.partition_key, "KeyType": "HASH"}]
        if self.sort_key:
            schema.append({"AttributeName": self.sort_key, "KeyType": "RANGE"})
        return schema

    def projection_params(self) -> dict[str, Any]:
        """The index's Projection, as CreateTable, UpdateTable and CloudFormation take it."""
        if self.projection == "INCLUDE":
            return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.included)}
        return {"ProjectionType": self.projection}


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    purpose: str
    partition_key_shape: str
    sort_key_shape: str
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None
    ttl_note: str = ""

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}{self.logical_name}"

    def index(self, name: str) -> IndexSpec:
        for index in self.indexes:
            if index.name == name:
                return index
        raise KeyError(f"table {self.logical_name} has no index {name!r}")

    def attribute_definitions(self) -> dict[str, AttributeType]:
        """Every key attribute of the table and its indexes, with its type."""
        definitions: dict[str, AttributeType] = {PK: "S", SK: "S"}
        for index in self.indexes:
            for attribute in (index.partition_key, index.sort_key):
                if attribute:
                    definitions[attribute] = index.attribute_type(attribute)
        return definitions


AGENT_DECISIONS = TableSpec(
    logical_name="agent_decisions",
    purpose="Every decision of every agent: context, reasoning, outcome.",
    partition_key_shape="agent:{agent_id}#decision#{type}",
    sort_key_shape="{timestamp}#{decision_id}",
    ttl_attribute=TTL_ATTRIBUTE,
    ttl_note="90 days after the decision",
    # Each index is sized to what its queries return, and sorts on the table's own `sk`
    # ({timestamp}#{decision_id}) instead of a copy of it (docs/storage.md, "Access patterns").
    indexes=(
        IndexSpec(
            name="agent_time",
            partition_key="agent_pk",
            sort_key=SK,
            purpose="one agent's timeline across types, whole decisions in one Query: "
            "agent:{agent_id} / {timestamp}#{decision_id}",
        ),
        IndexSpec(
            name="day_time",
            partition_key="day_pk",
            sort_key=SK,
            projection="INCLUDE",
            # The type never changes; the outcome status is left out, so that reporting an outcome
            # does not write this index too (an outcome filter across agents checks the items).
            included=("type",),
            purpose="every agent's decisions of one day, keys and their type (the page fetches its "
            "items): day#{day} / {timestamp}#{decision_id}",
        ),
        IndexSpec(
            name="learn",
            partition_key="learn_pk",
            sort_key="learn_sk",
            purpose="sparse: decisions with an outcome, in the order their outcomes arrived, with what "
            "consolidation reads of them; it reads past its watermark: learn#{agent_id} / {reported_at}#{decision_id}",
            sparse=True,
            projection="INCLUDE",
            # What learning reads (a definition may look at links); not the bookkeeping beside it,
            # so an entry stays under the 1 KB that one write unit buys.
            included=(
                "decision_id",
                "agent_id",
                "type",
                "timestamp",
                "recorded_at",
                "context",
                "reasoning",
                "links",
                "outcome",
                "outcome_history",
                "version",
                "learned",
                "expires_at",
            ),
        ),
    ),
)

AGENT_MEMORY_LTM = TableSpec(
    logical_name="agent_memory_ltm",
    purpose="Long-term memory: patterns, strategies, archetypes, configuration history, with versions.",
    partition_key_shape="agent:{agent_id}#memory#{type}  (type: PATTERN, STRATEGY, ARCHETYPE, CONFIG)",
    sort_key_shape="{pattern_id}, and {pattern_id}#v{version} for versions",
    ttl_attribute=TTL_ATTRIBUTE,
    ttl_note="only on consolidation's batches (its ledger), 91 days: long-term memory itself is kept",
    indexes=(
        IndexSpec(
            name="by_confidence",
            partition_key="conf_pk",
            sort_key="confidence",
            key_types={"confidence": "N"},
            purpose="sparse: current items only, top-N by confidence: {memory_type}#{agent_id} / confidence",
            sparse=True,
        ),
        IndexSpec(
            name="shared",
            partition_key="shared_pk",
            sort_key="confidence",
            key_types={"confidence": "N"},
            purpose="sparse: memories shared across agents: shared#{memory_type} / confidence",
            sparse=True,
        ),
    ),
)

AGENT_STATE = TableSpec(
    logical_name="agent_state",
    purpose="What each agent holds now: profile, CURRENT/CHECKPOINT/BACKUP state, config versions, "
    "short-term key-value memory, rate-limit windows.",
    partition_key_shape="agent:{agent_id}",
    sort_key_shape="CURRENT | CHECKPOINT#{name} | BACKUP | CONFIG#v{n} | STM#{key} | RATE#{source}#{window}",
    ttl_attribute=TTL_ATTRIBUTE,
    ttl_note="only on STM# and RATE# items",
    indexes=(
        IndexSpec(
            name="registry",
            partition_key="registry_pk",
            sort_key="registry_sk",
            purpose="sparse: the agent registry, one profile item per agent: registry / {agent_id}",
            sparse=True,
        ),
    ),
)

AGENT_SIGNALS = TableSpec(
    logical_name="agent_signals",
    purpose="Cross-agent signals, with one inbox item per target agent.",
    partition_key_shape="signal#{type}",
    sort_key_shape="{timestamp}#{signal_id}, and {timestamp}#{signal_id}#to#{agent_id} for inbox items",
    ttl_attribute=TTL_ATTRIBUTE,
    ttl_note="24 hours after publishing",
    indexes=(
        IndexSpec(
            name="by_target",
            partition_key="target_pk",
            sort_key="target_sk",
            purpose="sparse: an agent's unacknowledged inbox in one Query: inbox#{agent_id} / {timestamp}#{signal_id}",
            sparse=True,
        ),
        IndexSpec(
            name="by_day",
            partition_key="day_pk",
            sort_key="day_sk",
            purpose="sparse: signals (not inbox items) of a day, for the feed and lookups by id: "
            "day#{day} / {timestamp}#{signal_id}",
            sparse=True,
        ),
    ),
)

ALL_TABLES: tuple[TableSpec, ...] = (AGENT_DECISIONS, AGENT_MEMORY_LTM, AGENT_STATE, AGENT_SIGNALS)
