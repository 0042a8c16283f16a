from django.contrib import admin
from django.urls import path

from memsite.status.views import status_page

urlpatterns = [
    path("", status_page, name="status"),
    path("admin/", admin.site.urls),
]
