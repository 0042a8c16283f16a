from django.urls import path

from signals import api

urlpatterns = [
    path("signals/", api.SignalCollectionApi.as_view()),
    path("signals/inbox/", api.InboxApi.as_view()),
    path("signals/ack/", api.AckApi.as_view()),
    path("signals/<str:signal_id>/", api.SignalDetailApi.as_view()),
]
