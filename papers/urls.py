from django.contrib.auth import views as auth_views
from django.urls import path

from papers.views import accounts, labs, papers, system

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", labs.home, name="home"),
    path("labs/<slug:lab_slug>/", labs.lab_detail, name="lab_detail"),
    path("labs/<slug:lab_slug>/<slug:conference_slug>/papers/", papers.paper_list, name="paper_list"),
    path(
        "labs/<slug:lab_slug>/<slug:conference_slug>/papers/<str:forum_id>/", papers.paper_detail, name="paper_detail"
    ),
]
