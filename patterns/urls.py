from django.urls import path

from patterns import api, situations_api

urlpatterns = [
    path("pattern-definitions/", api.DefinitionCollectionApi.as_view()),
    path("pattern-definitions/<str:pattern_id>/", api.DefinitionDetailApi.as_view()),
    path("patterns/", api.PatternCollectionApi.as_view()),
    path("patterns/<str:pattern_id>/", api.PatternDetailApi.as_view()),
    path("patterns/<str:pattern_id>/versions/", api.PatternVersionsApi.as_view()),
    path("patterns/<str:pattern_id>/override/", api.PatternOverrideApi.as_view()),
    path("strategies/", api.StrategyListApi.as_view()),
    path("consolidation/runs/", api.ConsolidationRunListApi.as_view()),
    path("situations/similar/", situations_api.SimilarSituationsApi.as_view()),
    path("archetypes/", situations_api.ArchetypeListApi.as_view()),
]
