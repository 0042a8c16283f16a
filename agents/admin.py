from datetime import UTC, datetime

from django.contrib import admin

from agents.models import AgentToken


@admin.register(AgentToken)
class AgentTokenAdmin(admin.ModelAdmin):
    list_display = ["agent_id", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["agent_id", "prefix"]
    readonly_fields = ["agent_id", "prefix", "token_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a token is shown once, by `manage.py agent_create` / `agent_token rotate`

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=datetime.now(UTC))
        self.message_user(request, f"{count} token(s) revoked")
