"""Patterns over the API: definitions (the team reads, operators and admins write), learned
patterns with their versions and overrides, strategies, and consolidation runs."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.schemas import AgentId
from memsite.api.permissions import is_agent
from memsite.roles import has_role
from memsite.validation import validated
from patterns import memory_selectors, selectors, services
from patterns.memory_schemas import ConsolidationRun, Override, PatternState, PatternVersion, Strategy
from patterns.schemas import PatternDefinition, PatternDefinitionIn


class DefinitionList(BaseModel):
    results: list[PatternDefinition]


class DefinitionUpdate(PatternDefinitionIn):
    expected_version: int


def editor_for(request: Request) -> services.Editor:
    user = request.user
    if is_agent(user):
        return services.Editor(label=f"agent:{user.agent_id}", may_edit=False)
    return services.Editor(label=f"user:{user.get_username()}", may_edit=has_role(user, "operator"))


class DefinitionCollectionApi(APIView):
    @extend_schema(operation_id="pattern_definitions_list", responses={200: DefinitionList})
    def get(self, request: Request) -> Response:
        return Response({"results": [d.model_dump(mode="json") for d in selectors.definition_list()]})

    @extend_schema(
        operation_id="pattern_definitions_create",
        request=PatternDefinitionIn,
        responses={201: PatternDefinition},
    )
    def post(self, request: Request) -> Response:
        created = services.definition_create(raw=request.data, editor=editor_for(request))
        return Response(created.model_dump(mode="json"), status=201)


class DefinitionDetailApi(APIView):
    @extend_schema(operation_id="pattern_definitions_retrieve", responses={200: PatternDefinition})
    def get(self, request: Request, pattern_id: str) -> Response:
        return Response(selectors.definition_get(pattern_id=pattern_id).model_dump(mode="json"))

    @extend_schema(
        operation_id="pattern_definitions_update",
        description="The whole definition and expected_version, the version you edited (409 if it moved on).",
        request=DefinitionUpdate,
        responses={200: PatternDefinition},
    )
    def put(self, request: Request, pattern_id: str) -> Response:
        saved = services.definition_update(pattern_id=pattern_id, raw=request.data, editor=editor_for(request))
        return Response(saved.model_dump(mode="json"))

    @extend_schema(operation_id="pattern_definitions_destroy", responses={204: None})
    def delete(self, request: Request, pattern_id: str) -> Response:
        services.definition_delete(pattern_id=pattern_id, editor=editor_for(request))
        return Response(status=204)


# Learned patterns, strategies and consolidation runs.


class PatternList(BaseModel):
    results: list[memory_selectors.PatternSummary]


class PatternVersionList(BaseModel):
    results: list[PatternVersion]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: AgentId | None = Field(default=None, description="null: the pattern learned across all agents")

    override: Override | None = Field(description="pinned, suspended, or null to follow learning again")
    reason: str = Field(default="", max_length=500)


class StrategyList(BaseModel):
    results: list[Strategy]


class RunList(BaseModel):
    results: list[ConsolidationRun]


def _caller_agent(request: Request) -> str | None:
    return request.user.agent_id if is_agent(request.user) else None


class PatternCollectionApi(APIView):
    @extend_schema(
        operation_id="patterns_list",
        parameters=[
            OpenApiParameter("agent", str, description="that agent's patterns"),
            OpenApiParameter("shared", bool, description="the patterns learned across all agents"),
            OpenApiParameter("min_confidence", float, description="0..1"),
            OpenApiParameter("status", str, enum=["candidate", "active", "retired", "pinned", "suspended"]),
        ],
        description="Learned patterns, highest confidence first. Without agent or shared, an agent reads "
        "its own and the shared ones, a person every agent's and the shared ones.",
        responses={200: PatternList},
    )
    def get(self, request: Request) -> Response:
        query = memory_selectors.PatternQuery.from_params(request.query_params.dict())
        patterns = memory_selectors.pattern_list(query=query, caller_agent=_caller_agent(request))
        return Response({"results": [p.model_dump(mode="json") for p in patterns]})


class PatternDetailApi(APIView):
    @extend_schema(operation_id="patterns_retrieve", responses={200: memory_selectors.PatternDetail})
    def get(self, request: Request, pattern_id: str) -> Response:
        return Response(memory_selectors.pattern_detail(pattern_id=pattern_id).model_dump(mode="json"))


class PatternVersionsApi(APIView):
    @extend_schema(
        operation_id="patterns_versions",
        parameters=[OpenApiParameter("agent", str, description="that agent's versions; omit for the shared ones")],
        responses={200: PatternVersionList},
    )
    def get(self, request: Request, pattern_id: str) -> Response:
        agent = request.query_params.get("agent") or None
        versions = memory_selectors.pattern_versions(pattern_id=pattern_id, agent_id=agent)
        return Response({"results": [v.model_dump(mode="json") for v in versions]})


class PatternOverrideApi(APIView):
    @extend_schema(
        operation_id="patterns_override",
        description="Operators pin or suspend a learned pattern; null hands it back to learning.",
        request=OverrideIn,
        responses={200: PatternState},
    )
    def put(self, request: Request, pattern_id: str) -> Response:
        body = validated(OverrideIn, request.data)
        state = services.pattern_override(
            pattern_id=pattern_id,
            agent_id=body.agent_id,
            override=body.override,
            reason=body.reason,
            editor=editor_for(request),
        )
        return Response(state.model_dump(mode="json"))


class StrategyListApi(APIView):
    @extend_schema(
        operation_id="strategies_list",
        parameters=[OpenApiParameter("agent", str, description="that agent's strategies (default: every agent's)")],
        responses={200: StrategyList},
    )
    def get(self, request: Request) -> Response:
        agent = request.query_params.get("agent") or _caller_agent(request)
        return Response(
            {"results": [s.model_dump(mode="json") for s in memory_selectors.strategy_list(agent_id=agent)]}
        )


class ConsolidationRunListApi(APIView):
    @extend_schema(operation_id="consolidation_runs_list", responses={200: RunList})
    def get(self, request: Request) -> Response:
        return Response({"results": [r.model_dump(mode="json") for r in memory_selectors.run_list()]})
