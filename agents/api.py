"""The agents API: registry, heartbeats, state slots, short-term memory, rate limits. Thin views
over agents.services and agents.selectors."""

import hashlib
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from pydantic import BaseModel, RootModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import config, selectors, services
from agents.schemas import (
    AgentSummary,
    ConfigVersion,
    Heartbeat,
    MemoryEntry,
    RateDecision,
    RateLimitWindow,
    StateSlot,
)
from memsite.api.parsers import body_or_none
from memsite.api.permissions import is_agent
from memsite.api.schema import ErrorOut
from memsite.roles import has_role


def writer_for(request: Request) -> services.Writer:
    user = request.user
    if is_agent(user):
        return services.Writer(label=f"agent:{user.agent_id}", agent_id=user.agent_id)
    return services.Writer(label=f"user:{user.get_username()}", is_operator=has_role(user, "operator"))


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


class AgentList(BaseModel):
    results: list[AgentSummary]


class SlotList(BaseModel):
    results: list[StateSlot]


class MemoryList(BaseModel):
    results: list[MemoryEntry]


class WindowList(BaseModel):
    results: list[RateLimitWindow]


class SourceExhausted(RateDecision):
    """The source's window, and the error body every refusal has."""

    detail: str
    code: str
    fields: dict[str, Any]


class ConsumeRefused(RootModel[SourceExhausted | ErrorOut]):
    """The source's window is used up, or the API's own throttle refused the call."""


class AgentListApi(APIView):
    @extend_schema(operation_id="agents_list", responses={200: AgentList})
    def get(self, request: Request) -> Response:
        return Response({"results": [_json(agent) for agent in selectors.agent_list()]})


class AgentDetailApi(APIView):
    @extend_schema(operation_id="agents_retrieve", responses={200: AgentSummary})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response(_json(selectors.agent_get(agent_id=agent_id)))


class HeartbeatApi(APIView):
    @extend_schema(operation_id="agents_heartbeat", request=services.HeartbeatIn, responses={200: Heartbeat})
    def post(self, request: Request, agent_id: str) -> Response:
        beat = services.heartbeat_record(agent_id=agent_id, raw=request.data, writer=writer_for(request))
        return Response(_json(beat))


class _StateSlotApi(APIView):
    """CURRENT and BACKUP: the body of a PUT is the state object itself."""

    slot = ""

    def get(self, request: Request, agent_id: str) -> Response:
        return Response(_json(selectors.state_get(agent_id=agent_id, slot=self.slot)))

    def put(self, request: Request, agent_id: str) -> Response:
        raw = body_or_none(request)
        stored = services.state_put(agent_id=agent_id, slot=self.slot, raw=raw, writer=writer_for(request))
        return Response(_json(stored))


@extend_schema_view(
    get=extend_schema(operation_id="agents_state_current_retrieve", responses={200: StateSlot}),
    put=extend_schema(operation_id="agents_state_current_update", request=dict[str, Any], responses={200: StateSlot}),
)
class CurrentStateApi(_StateSlotApi):
    slot = "CURRENT"


@extend_schema_view(
    get=extend_schema(operation_id="agents_state_backup_retrieve", responses={200: StateSlot}),
    put=extend_schema(operation_id="agents_state_backup_update", request=dict[str, Any], responses={200: StateSlot}),
)
class BackupStateApi(_StateSlotApi):
    slot = "BACKUP"


class CheckpointListApi(APIView):
    @extend_schema(operation_id="agents_checkpoints_list", responses={200: SlotList})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response({"results": [_json(slot) for slot in selectors.checkpoint_list(agent_id=agent_id)]})


class CheckpointApi(APIView):
    @extend_schema(operation_id="agents_checkpoint_retrieve", responses={200: StateSlot})
    def get(self, request: Request, agent_id: str, name: str) -> Response:
        slot = services.checkpoint_slot(name)
        return Response(_json(selectors.state_get(agent_id=agent_id, slot=slot)))

    @extend_schema(operation_id="agents_checkpoint_update", request=dict[str, Any], responses={200: StateSlot})
    def put(self, request: Request, agent_id: str, name: str) -> Response:
        slot = services.checkpoint_slot(name)
        stored = services.state_put(agent_id=agent_id, slot=slot, raw=body_or_none(request), writer=writer_for(request))
        return Response(_json(stored))


class CheckpointRestoreApi(APIView):
    @extend_schema(operation_id="agents_checkpoint_restore", request=None, responses={200: StateSlot})
    def post(self, request: Request, agent_id: str, name: str) -> Response:
        current = services.checkpoint_restore(agent_id=agent_id, name=name, writer=writer_for(request))
        return Response(_json(current))


class MemoryListApi(APIView):
    @extend_schema(operation_id="agents_memory_list", responses={200: MemoryList})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response({"results": [_json(entry) for entry in selectors.memory_list(agent_id=agent_id)]})


class MemoryApi(APIView):
    @extend_schema(operation_id="agents_memory_retrieve", responses={200: MemoryEntry})
    def get(self, request: Request, agent_id: str, key: str) -> Response:
        return Response(_json(selectors.memory_get(agent_id=agent_id, key=key)))

    @extend_schema(operation_id="agents_memory_update", request=services.MemoryIn, responses={200: MemoryEntry})
    def put(self, request: Request, agent_id: str, key: str) -> Response:
        entry = services.memory_put(agent_id=agent_id, key=key, raw=request.data, writer=writer_for(request))
        return Response(_json(entry))

    @extend_schema(operation_id="agents_memory_destroy", responses={204: None})
    def delete(self, request: Request, agent_id: str, key: str) -> Response:
        services.memory_delete(agent_id=agent_id, key=key, writer=writer_for(request))
        return Response(status=204)


class RateLimitListApi(APIView):
    @extend_schema(operation_id="agents_ratelimits_list", responses={200: WindowList})
    def get(self, request: Request, agent_id: str) -> Response:
        windows = selectors.ratelimit_windows(agent_id=agent_id)
        return Response({"results": [_json(w) | {"remaining": w.remaining} for w in windows]})


class RateLimitConsumeApi(APIView):
    @extend_schema(
        operation_id="agents_ratelimit_consume",
        description="Take `cost` from the current fixed window of `window_seconds` for this source. "
        "One atomic conditional write: exact under concurrent callers. 429 with Retry-After when exhausted.",
        request=services.ConsumeIn,
        responses={200: RateDecision, 429: ConsumeRefused},
    )
    def post(self, request: Request, agent_id: str, source: str) -> Response:
        result = services.ratelimit_consume(
            agent_id=agent_id, source=source, raw=request.data, writer=writer_for(request)
        )
        if result.allowed:
            return Response(_json(result))
        wait = max(1, math.ceil((result.reset_at - datetime.now(UTC)).total_seconds()))
        detail = f"rate limit of {source} exhausted; resets in {wait} s"
        body = _json(result) | {"detail": detail, "code": "throttled", "fields": {}}
        return Response(body, status=429, headers={"Retry-After": str(wait)})


def editor_for(request: Request) -> config.Editor:
    user = request.user
    if is_agent(user):
        return config.Editor(label=f"agent:{user.agent_id}", may_edit=False)
    return config.Editor(label=f"user:{user.get_username()}", may_edit=has_role(user, "operator"))


def _etag(version: ConfigVersion) -> str:
    """The version, and a digest of the document: version 0's defaults change with the code."""
    digest = hashlib.sha256(json.dumps(version.document, sort_keys=True).encode()).hexdigest()[:10]
    return f'"v{version.version}-{digest}"'


class VersionList(BaseModel):
    results: list[ConfigVersion]


ETAG = OpenApiParameter(
    "ETag", str, OpenApiParameter.HEADER, response=[200, 304], required=True, description='"v{version}-{digest}"'
)


class ConfigApi(APIView):
    @extend_schema(
        operation_id="agents_config_retrieve",
        description="The current configuration (version 0: the kind's defaults, before any save). "
        'ETag is "v{version}-{digest}"; send it as If-None-Match to get 304 when unchanged.',
        parameters=[ETAG],
        responses={200: ConfigVersion, 304: None},
    )
    def get(self, request: Request, agent_id: str) -> Response:
        current = config.config_current(agent_id=agent_id)
        if request.headers.get("If-None-Match") == _etag(current):
            return Response(status=304, headers={"ETag": _etag(current)})
        return Response(_json(current), headers={"ETag": _etag(current)})

    @extend_schema(
        operation_id="agents_config_update",
        description="Save a new version (operators and admins). expected_version is the version you edited "
        '(or send If-Match: "v{n}"); 409 names the version saved in between.',
        request=config.SaveIn,
        parameters=[ETAG],
        responses={200: ConfigVersion},
    )
    def put(self, request: Request, agent_id: str) -> Response:
        body = dict(request.data) if isinstance(request.data, dict) else request.data
        if_match = re.fullmatch(r'"?v(\d{1,9})(-[0-9a-f]+)?"?', request.headers.get("If-Match", "").strip())
        if isinstance(body, dict) and "expected_version" not in body and if_match:
            body["expected_version"] = int(if_match.group(1))
        saved = config.config_save(agent_id=agent_id, raw=body, editor=editor_for(request))
        return Response(_json(saved), headers={"ETag": _etag(saved)})


class ConfigVersionsApi(APIView):
    @extend_schema(operation_id="agents_config_versions", responses={200: VersionList})
    def get(self, request: Request, agent_id: str) -> Response:
        return Response({"results": [_json(v) for v in config.config_versions(agent_id=agent_id)]})


class ConfigRollbackApi(APIView):
    @extend_schema(
        operation_id="agents_config_rollback",
        description="Write a new version holding an older version's document (operators and admins).",
        request=config.RollbackIn,
        parameters=[ETAG],
        responses={200: ConfigVersion},
    )
    def post(self, request: Request, agent_id: str) -> Response:
        saved = config.config_rollback(agent_id=agent_id, raw=request.data, editor=editor_for(request))
        return Response(_json(saved), headers={"ETag": _etag(saved)})
