from django.contrib.auth import views as auth_views
from django.urls import include, path

from papers.views import (
    accounts,
    backup,
    dashboard,
    exports,
    labs,
    notes,
    paper_page,
    papers,
    schedule,
    split,
    system,
    triage,
)

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
    path("schedule/", schedule.schedule, name="schedule"),
    path("schedule/events/new/", schedule.event_add, name="event_add"),
    path("schedule/events/<int:session_id>/edit/", schedule.event_edit, name="event_edit"),
    path("schedule/events/<int:session_id>/delete/", schedule.event_delete, name="event_delete"),
    path("schedule/choose/", schedule.clash_choose, name="clash_choose"),
    path("export/<str:fmt>/", exports.export, name="export"),
    path("calendar/", exports.calendar_feeds, name="calendar_feeds"),
    path("calendar/renew/", exports.calendar_feed_renew, name="calendar_feed_renew"),
    path("calendar/revoke/", exports.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("split/", split.split, name="split"),
    path("split/create/", split.split_create, name="split_create"),
    path("split/clear/", split.split_clear, name="split_clear"),
    path("split/take/<int:user_id>/", split.split_take_over, name="split_take_over"),
    path("split/swap/<int:user_id>/", split.split_swap, name="split_swap"),
]

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", labs.home, name="home"),
    path("labs/", labs.lab_switcher, name="lab_switcher"),
    path("labs/new/", labs.lab_new, name="lab_new"),
    path("join/<str:token>/", labs.join, name="join"),
    path("labs/<slug:lab_slug>/", labs.lab_detail, name="lab_detail"),
    path("labs/<slug:lab_slug>/invite/", labs.invite_create, name="invite_create"),
    path("labs/<slug:lab_slug>/invites/<int:invite_id>/revoke/", labs.invite_revoke, name="invite_revoke"),
    path("labs/<slug:lab_slug>/members/<int:user_id>/remove/", labs.member_remove, name="member_remove"),
    path("labs/<slug:lab_slug>/members/<int:user_id>/role/", labs.member_role, name="member_role"),
    path("labs/<slug:lab_slug>/members/<int:user_id>/hand-over/", labs.ownership_hand_over, name="ownership_hand_over"),
    path("labs/<slug:lab_slug>/leave/", labs.lab_leave, name="lab_leave"),
    path("labs/<slug:lab_slug>/export/", backup.lab_export, name="lab_export"),
    path("labs/<slug:lab_slug>/import/", backup.lab_import, name="lab_import"),
    path("ics/<str:token>.ics", exports.calendar_feed, name="calendar_feed"),
    path("labs/<slug:lab_slug>/<slug:conference_slug>/", include(conference_urls)),
]
