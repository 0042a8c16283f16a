"""Every page requires login; the API authenticates on its own (agent tokens, sessions) and
answers 401/403 in JSON instead of redirecting to the login page."""

from django.contrib.auth.middleware import LoginRequiredMiddleware


class LoginRequiredForPagesMiddleware(LoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
