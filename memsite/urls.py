from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from decisions.views import overview
from memsite.status import health
from memsite.status.metrics_view import metrics_view
from memsite.status.views import status_page
from patterns.views import ops_page

urlpatterns = [
    path("", overview, name="overview"),
    path("decisions/", include("decisions.page_urls")),
    path("agents/", include("agents.page_urls")),
    path("signals/", include("signals.page_urls")),
    path("patterns/", include("patterns.page_urls")),
    path("status/", status_page, name="status"),
    path("ops/", ops_page, name="ops"),
    path("health/live", health.live, name="health-live"),
    path("metrics", metrics_view, name="metrics"),
    path("health/ready", health.ready, name="health-ready"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(extra_context={"debug_login": settings.DEBUG}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("memsite.api.urls")),
]
