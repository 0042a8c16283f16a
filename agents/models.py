"""API tokens of agents. Agents themselves live in DynamoDB (the registry in agent_state);
only the hashed tokens are here, next to Django's users."""

from django.db import models


class AgentToken(models.Model):
    agent_id = models.CharField(max_length=64, db_index=True)
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough and lets
    # each request find its token with one indexed lookup. The token itself is shown once.
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=16, help_text="the token's first characters, to tell tokens apart")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agent_id", "-created_at"]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"{self.agent_id} {self.prefix}… ({state})"


class ConfigChange(models.Model):
    """The audit trail of configuration edits: who, when, what (the changed paths), and why.
    The versions themselves live in DynamoDB; this is the log people read on the agent page."""

    agent_id = models.CharField(max_length=64, db_index=True)
    version = models.PositiveIntegerField()
    actor = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True)
    note = models.TextField()
    changes = models.JSONField(default=list, help_text="[[path, old, new], ...]")
    rollback_of = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["agent_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["agent_id", "version"], name="one_audit_row_per_version")]

    def __str__(self) -> str:
        return f"{self.agent_id} v{self.version} by {self.actor}"
