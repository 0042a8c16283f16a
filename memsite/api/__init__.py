"""The REST API's shared parts: agent-token authentication, permissions, the error handler.
Each app's api.py holds its own views; memsite/api/urls.py mounts them under /api/v1/."""
