"""The project's URLs plus the archetype API and page, for tests until patterns/urls.py and
patterns/page_urls.py list them (the same paths, so the tests do not change then)."""

from django.urls import path

from memsite.urls import urlpatterns as project_urlpatterns
from patterns import archetype_views, situations_api

urlpatterns = [
    path("api/v1/situations/similar/", situations_api.SimilarSituationsApi.as_view()),
    path("api/v1/archetypes/", situations_api.ArchetypeListApi.as_view()),
    path("patterns/archetypes/", archetype_views.archetypes_page, name="pattern-archetypes"),
    *project_urlpatterns,
]
