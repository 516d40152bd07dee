from __future__ import annotations

app_name = "studyplans"
urlpatterns: list = []
