"""Pattern definitions over the API: the team reads, operators and admins write."""

from drf_spectacular.utils import extend_schema
from pydantic import BaseModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from memsite.api.permissions import is_agent
from memsite.roles import has_role
from patterns import selectors, services
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
