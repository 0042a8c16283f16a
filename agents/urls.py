from django.urls import path

from agents import api

urlpatterns = [
    path("agents/", api.AgentListApi.as_view()),
    path("agents/<str:agent_id>/", api.AgentDetailApi.as_view()),
    path("agents/<str:agent_id>/heartbeat/", api.HeartbeatApi.as_view()),
    path("agents/<str:agent_id>/state/checkpoints/", api.CheckpointListApi.as_view()),
    path("agents/<str:agent_id>/state/checkpoints/<str:name>/", api.CheckpointApi.as_view()),
    path("agents/<str:agent_id>/state/checkpoints/<str:name>/restore/", api.CheckpointRestoreApi.as_view()),
    path("agents/<str:agent_id>/state/CURRENT/", api.CurrentStateApi.as_view()),
    path("agents/<str:agent_id>/state/BACKUP/", api.BackupStateApi.as_view()),
    path("agents/<str:agent_id>/memory/", api.MemoryListApi.as_view()),
    path("agents/<str:agent_id>/memory/<str:key>/", api.MemoryApi.as_view()),
    path("agents/<str:agent_id>/config/", api.ConfigApi.as_view()),
    path("agents/<str:agent_id>/config/versions/", api.ConfigVersionsApi.as_view()),
    path("agents/<str:agent_id>/config/rollback/", api.ConfigRollbackApi.as_view()),
    path("agents/<str:agent_id>/ratelimits/", api.RateLimitListApi.as_view()),
    path("agents/<str:agent_id>/ratelimits/<str:source>/consume/", api.RateLimitConsumeApi.as_view()),
]
