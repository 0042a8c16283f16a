from django.urls import path

from decisions import api

app_name = "decisions-api"

urlpatterns = [
    path("decisions/", api.DecisionCollectionApi.as_view(), name="collection"),
    path("decisions/<str:decision_id>/", api.DecisionDetailApi.as_view(), name="detail"),
    path("decisions/<str:decision_id>/outcome/", api.DecisionOutcomeApi.as_view(), name="outcome"),
]
