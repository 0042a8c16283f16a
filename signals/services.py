"""Writes of the signal bus: publish (idempotent by signal_id, one inbox item per target),
deliver and acknowledge. Each step is a conditional single-item write or an idempotent
update, so a retried publish completes a crashed one and fans out nothing twice."""

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from ulid import ULID

from agents import repository as agents_repository
from decisions.schemas import MAX_CLOCK_SKEW, to_millis
from memsite import storage
from memsite.errors import AlreadyExists, PermissionDenied, ValidationFailed
from memsite.validation import size_checked, unstorable, validation_failed
from signals import repository
from signals.schemas import MAX_PAYLOAD_BYTES, AckIn, Delivery, Signal, SignalIn


def _signal_from(data: SignalIn, source_agent: str) -> Signal:
    now = to_millis(datetime.now(UTC))
    if data.signal_id:
        # The id carries the time: a retry lands on the same item, whenever it is sent.
        created = to_millis(ULID.from_str(data.signal_id).datetime)
        if not now - timedelta(seconds=data.ttl_seconds) < created <= now + MAX_CLOCK_SKEW:
            detail = "its time is outside the signal's life (now minus ttl_seconds .. now); use a fresh ULID"
            raise ValidationFailed(f"signal_id: {detail}", fields={"signal_id": detail})
        signal_id = data.signal_id
    else:
        created, signal_id = now, str(ULID.from_datetime(now))
    return Signal(
        signal_id=signal_id,
        type=data.type,
        source_agent=source_agent,
        confidence=data.confidence,
        payload=data.payload,
        target_agents=data.target_agents,
        decision_id=data.decision_id,
        created_at=created,
        # Whole seconds, as the TTL attribute keeps it (rounded up: a signal never lives less than
        # asked), so a stored signal reads back identical.
        expires_at=_whole_seconds_up(created + timedelta(seconds=data.ttl_seconds)),
        deliveries={target: Delivery() for target in data.target_agents},
    )


def _whole_seconds_up(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) + (timedelta(seconds=1) if moment.microsecond else timedelta())


def _parse(raw: Any, source_agent: str) -> Signal:
    try:
        data = SignalIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    size_checked(data.payload, MAX_PAYLOAD_BYTES, "payload")
    unknown = [a for a in data.target_agents if agents_repository.profile_find(a) is None]
    if unknown:
        detail = f"not registered agents: {', '.join(unknown)}"
        raise ValidationFailed(f"target_agents: {detail}", fields={"target_agents": detail})
    signal = _signal_from(data, source_agent)
    try:
        repository.item_check(signal)
    except storage.InvalidValue as error:
        raise unstorable(error) from None
    return signal


def signal_publish(*, raw: Any, source_agent: str | None) -> tuple[str, Signal]:
    """("created", signal), or ("exists", the stored one) for an identical retry; 409 when the
    signal_id was used for something else."""
    if source_agent is None:
        raise PermissionDenied("only agents publish signals: send the agent's token")
    signal = _parse(raw, source_agent)
    stored = repository.signal_put_new(signal)
    if stored is not None and not repository.same_content(stored, signal):
        raise AlreadyExists(
            f"signal_id {signal.signal_id} was published with different content",
            fields={"signal_id": "taken by a different signal"},
        )
    repository.inbox_put_new(signal)
    repository.flows_add(signal)
    if stored is None:
        return "created", signal  # every target waiting, as its deliveries say
    # A retry: how far the targets got since is on the inbox items (one Query; retries are rare).
    return "exists", repository.with_deliveries([stored])[0]


def inbox_deliver(*, agent_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """A page of the agent's unacknowledged, unexpired signals, oldest first; each is marked
    delivered the first time it is handed out (delivery is at least once: until acknowledged,
    it comes again)."""
    signals, next_cursor = repository.inbox_page(agent_id, limit=limit, cursor=cursor)
    now = to_millis(datetime.now(UTC))
    repository.mark_delivered(agent_id, signals, now)
    return [s.model_copy(update={"delivered_at": s.delivered_at or now}) for s in signals], next_cursor


def signals_acknowledge(*, agent_id: str, raw: Any) -> list[dict[str, str]]:
    try:
        data = AckIn.model_validate(raw)
    except ValidationError as error:
        raise validation_failed(error) from None
    now = to_millis(datetime.now(UTC))
    return [
        {
            "signal_id": signal_id,
            "status": "acknowledged" if repository.acknowledge(agent_id, signal_id, now) else "not_in_inbox",
        }
        for signal_id in data.signal_ids
    ]
