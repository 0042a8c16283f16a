from django.urls import path

from patterns import api

urlpatterns = [
    path("pattern-definitions/", api.DefinitionCollectionApi.as_view()),
    path("pattern-definitions/<str:pattern_id>/", api.DefinitionDetailApi.as_view()),
]
