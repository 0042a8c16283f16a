"""Archetypes and similar past situations over the API: any agent or team member may ask."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from memsite.api.permissions import IsTeamMember
from memsite.validation import validated
from patterns import archetype_selectors as selectors
from patterns.archetype_schemas import ArchetypeList, SimilarIn, SimilarSituations


class SimilarSituationsApi(APIView):
    permission_classes = [IsTeamMember]

    @extend_schema(
        operation_id="situations_similar",
        description="The archetype nearest the given market context, with its outcome statistics, and the "
        "nearest past decisions (optionally of one type or agent), nearest first, with their outcomes as "
        "they stand now. Before the first archetype rebuild: archetype null, no results, and a detail saying why.",
        request=SimilarIn,
        responses={200: SimilarSituations},
    )
    def post(self, request: Request) -> Response:
        query = validated(SimilarIn, request.data)
        found = selectors.similar_situations(
            context=query.context, type=query.type, agent_id=query.agent_id, limit=query.limit
        )
        return Response(found.model_dump(mode="json"))


class ArchetypeListApi(APIView):
    permission_classes = [IsTeamMember]

    @extend_schema(operation_id="archetypes_list", responses={200: ArchetypeList})
    def get(self, request: Request) -> Response:
        return Response(selectors.archetype_list().model_dump(mode="json"))
