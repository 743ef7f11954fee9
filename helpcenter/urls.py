from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Help portal administration"
admin.site.site_title = "Help portal admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("search.urls")),
    path("", include("troubleshoot.urls")),
]

handler404 = "troubleshoot.views.page_not_found"
