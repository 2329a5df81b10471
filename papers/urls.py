from django.contrib.auth import views as auth_views
from django.urls import include, path

from papers.views import accounts, dashboard, labs, notes, paper_page, papers, system, triage

paper_urls = [
    path("", paper_page.paper_detail, name="paper_detail"),
    path("star/", papers.paper_star, name="paper_star"),
    path("state/", papers.paper_state, name="paper_state"),
    path("notes/", notes.note_add, name="note_add"),
    path("notes/<int:note_id>/edit/", notes.note_edit, name="note_edit"),
    path("notes/<int:note_id>/done/", notes.note_done, name="note_done"),
    path("notes/<int:note_id>/delete/", notes.note_delete, name="note_delete"),
]

conference_urls = [
    path("", dashboard.dashboard, name="dashboard"),
    path("papers/", papers.paper_list, name="paper_list"),
    path("papers/<str:forum_id>/", include(paper_urls)),
    path("triage/", triage.triage, name="triage"),
    path("triage/decide/", triage.triage_decide, name="triage_decide"),
    path("triage/undo/", triage.triage_undo, name="triage_undo"),
]

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", labs.home, name="home"),
    path("labs/<slug:lab_slug>/", labs.lab_detail, name="lab_detail"),
    path("labs/<slug:lab_slug>/<slug:conference_slug>/", include(conference_urls)),
]
