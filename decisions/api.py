"""The decision log API: thin views over decisions.services and decisions.selectors."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, RootModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions import selectors, services
from decisions.schemas import TYPE_PATTERN, BatchResult, Decision, DecisionIn, OutcomeIn
from decisions.selectors import MAX_PAGE
from memsite import log_context
from memsite.api.permissions import IsTeamMember, is_agent
from memsite.errors import PayloadTooLarge, PermissionDenied
from memsite.roles import has_role

# 100 decisions of at most 64 KiB each, and the JSON around them.
MAX_BODY_BYTES = 100 * 64 * 1024 + 64 * 1024


class DecisionPage(BaseModel):
    results: list[Decision]
    next_cursor: str | None


class BatchOut(BaseModel):
    results: list[BatchResult]


class DecisionSubmission(RootModel[DecisionIn | list[DecisionIn]]):
    """One decision, or a batch of up to 100."""


class SubmissionResult(RootModel[Decision | BatchOut]):
    """The decision (single submission) or the per-item results (batch)."""


def decision_json(decision: Decision) -> dict[str, Any]:
    return decision.model_dump(mode="json")


def actor_for(request: Request) -> services.Actor:
    user = request.user
    if is_agent(user):
        return services.Actor(label=f"agent:{user.agent_id}", agent_id=user.agent_id)
    return services.Actor(label=f"user:{user.get_username()}", is_operator=has_role(user, "operator"))


def _refuse_oversized(request: Request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # the server reads the body as sent; the parser refuses what is not JSON
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {length} bytes; the limit is {MAX_BODY_BYTES} (100 decisions of 64 KiB)")


class DecisionCollectionApi(APIView):
    permission_classes = [IsTeamMember]

    @extend_schema(
        operation_id="decisions_list",
        parameters=[
            OpenApiParameter("agent", str),
            OpenApiParameter(
                "type", str, description="decision type, e.g. TRADE_EXECUTION", pattern=TYPE_PATTERN.pattern
            ),
            OpenApiParameter("outcome", str, enum=["SUCCESS", "FAILURE", "PENDING"]),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO-8601; default: 7 days before until"),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="ISO-8601; default: now"),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, description="default 50"),
            OpenApiParameter("cursor", str, description="next_cursor of the previous page"),
        ],
        responses={200: DecisionPage},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params.dict()
        params.pop("format", None)  # DRF's own ?format= switch, not a filter
        filters = selectors.DecisionFilter.from_params(params)
        decisions, next_cursor = selectors.decision_list(filters=filters)
        return Response({"results": [decision_json(d) for d in decisions], "next_cursor": next_cursor})

    @extend_schema(
        operation_id="decisions_create",
        description="One decision object, or an array of up to 100 (a batch). Agents only, as themselves. "
        "Single: 201 created, 200 identical retry, 409 same id with other content. "
        "Batch: 200 when every item was created or existed, 207 otherwise; valid items are stored either way.",
        request=DecisionSubmission,
        responses={200: SubmissionResult, 201: Decision, 207: BatchOut},
    )
    def post(self, request: Request) -> Response:
        if not is_agent(request.user):
            raise PermissionDenied("only agents log decisions: send the agent's token")
        _refuse_oversized(request)
        actor = actor_for(request)
        if isinstance(request.data, list):
            results = services.decision_record_batch(raws=request.data, actor=actor)
            all_stored = all(result.status in ("created", "exists") for result in results)
            return Response({"results": [r.model_dump() for r in results]}, status=200 if all_stored else 207)
        status, decision = services.decision_record(raw=request.data, actor=actor)
        return Response(decision_json(decision), status=201 if status == "created" else 200)


class DecisionDetailApi(APIView):
    permission_classes = [IsTeamMember]

    @extend_schema(operation_id="decisions_retrieve", responses={200: Decision})
    def get(self, request: Request, decision_id: str) -> Response:
        log_context.decision_id.set(decision_id[:40])
        return Response(decision_json(selectors.decision_get(decision_id=decision_id)))


class DecisionOutcomeApi(APIView):
    permission_classes = [IsTeamMember]

    @extend_schema(
        operation_id="decisions_outcome",
        description="Report a decision's outcome (its agent, or an operator). Reporting again with different "
        "content is a correction: the previous outcome is kept in outcome_history with who and when.",
        request=OutcomeIn,
        responses={200: Decision},
    )
    def post(self, request: Request, decision_id: str) -> Response:
        log_context.decision_id.set(decision_id[:40])
        _, decision = services.decision_outcome_set(decision_id=decision_id, raw=request.data, actor=actor_for(request))
        return Response(decision_json(decision))
