"""Every page requires login and shows friendly errors; the API authenticates on its own
(agent tokens, sessions) and answers 401/403 in JSON instead of redirecting to the login page."""

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.shortcuts import render

from memsite import storage
from memsite.errors import ApplicationError
from memsite.roles import user_role

READ_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequiredForPagesMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        # The interactive API docs are a page for people; the rest of /api/ is for clients, and
        # health checks are for load balancers, which do not log in.
        if request.path_info.startswith("/health/") or request.path_info == "/metrics":
            return None  # /metrics checks its own token or admin login
        if request.path_info.startswith("/api/") and request.path_info != "/api/docs/":
            return None
        if request.path_info == "/api/docs/" and not request.user.is_authenticated:
            # DRF marks its views login-not-required, which the check below honours: an agent's
            # token would open the docs page (and fail to render it).
            return self.handle_no_permission(request, view_func)
        refused = super().process_view(request, view_func, view_args, view_kwargs)
        if refused is not None or not request.user.is_authenticated:
            return refused
        if request.path_info.startswith(("/admin/", "/accounts/")):
            return None  # Django admin checks its own permissions; logging out needs no role
        # Logged in is not enough: reading needs a role, and changing anything operator or admin.
        # The views check too; this answers a viewer's POST with a 403, never a page that quietly
        # did nothing, and holds for a page added later.
        role = user_role(request.user)
        if role is None:
            return _error_page(request, 403, "Your account has no role yet: ask an admin to give you one.")
        if role == "viewer" and request.method not in READ_METHODS:
            return _error_page(request, 403, "Your role is viewer: only operators and admins make changes.")
        return None


class FriendlyErrorsMiddleware:
    """Pages show a message a person can act on, never a traceback: a missing record is a 404
    page, storage that is down is a 503 page with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path_info.startswith("/api/"):
            return None
        if isinstance(exception, ApplicationError):
            return _error_page(request, exception.status, exception.detail)
        if isinstance(exception, storage.InvalidCursor):
            return _error_page(request, 400, f"{exception.message}. Open the first page again.")
        if isinstance(exception, (storage.Unavailable, storage.TableMissing)):
            response = _error_page(request, 503, f"The database is not answering right now: {exception.message}")
            response["Retry-After"] = str(getattr(exception, "retry_after", 30))
            return response
        return None


def _error_page(request, status: int, message: str):
    return render(request, "error.html", {"status": status, "message": message}, status=status)
