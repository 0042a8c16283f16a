"""The signals API: publish, inbox, acknowledge, look up. Thin views over signals.services and
signals.selectors."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from memsite.api.permissions import IsAgent, is_agent
from memsite.errors import ValidationFailed
from signals import selectors, services
from signals.schemas import AckIn, InboxSignal, Signal, SignalIn

MAX_INBOX_PAGE = 500


class InboxPage(BaseModel):
    results: list[InboxSignal]
    next_cursor: str | None


class SignalList(BaseModel):
    results: list[Signal]


class AckResult(BaseModel):
    signal_id: str
    status: str


class AckOut(BaseModel):
    results: list[AckResult]


class SignalCollectionApi(APIView):
    @extend_schema(
        operation_id="signals_list",
        description="The latest signals with per-target delivery.",
        responses={200: SignalList},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": [s.model_dump(mode="json") for s in selectors.signal_feed()]})

    @extend_schema(
        operation_id="signals_publish",
        description="Publish a signal to target agents (agents only). Each target gets its own inbox entry. "
        "201 created; 200 identical retry with the same signal_id; 409 same signal_id, other content.",
        request=SignalIn,
        responses={200: Signal, 201: Signal},
    )
    def post(self, request: Request) -> Response:
        source = request.user.agent_id if is_agent(request.user) else None
        status, signal = services.signal_publish(raw=request.data, source_agent=source)
        return Response(signal.model_dump(mode="json"), status=201 if status == "created" else 200)


class InboxApi(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        operation_id="signals_inbox",
        parameters=[
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": MAX_INBOX_PAGE}, description="default 50"
            ),
            OpenApiParameter("cursor", str),
        ],
        responses={200: InboxPage},
    )
    def get(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            raise ValidationFailed("limit: an integer from 1 to 500", fields={"limit": "not an integer"}) from None
        if not 1 <= limit <= MAX_INBOX_PAGE:
            raise ValidationFailed("limit: an integer from 1 to 500", fields={"limit": "out of range"})
        signals, cursor = services.inbox_deliver(
            agent_id=request.user.agent_id, limit=limit, cursor=request.query_params.get("cursor") or None
        )
        return Response({"results": [s.model_dump(mode="json") for s in signals], "next_cursor": cursor})


class AckApi(APIView):
    permission_classes = [IsAgent]

    @extend_schema(operation_id="signals_ack", request=AckIn, responses={200: AckOut})
    def post(self, request: Request) -> Response:
        results = services.signals_acknowledge(agent_id=request.user.agent_id, raw=request.data)
        return Response({"results": results})


class SignalDetailApi(APIView):
    @extend_schema(operation_id="signals_retrieve", responses={200: Signal})
    def get(self, request: Request, signal_id: str) -> Response:
        return Response(selectors.signal_get(signal_id=signal_id).model_dump(mode="json"))
