from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from papers import versions
from papers.importers.base import ImportFailed
from papers.importers.csv import import_csv
from papers.importers.openreview import import_openreview
from papers.importers.virtualsite import import_schedule
from papers.models import (
    Conference,
    Invite,
    Lab,
    Membership,
    Note,
    Paper,
    Presentation,
    ReadingStatus,
    Session,
    User,
    validate_timezone,
)

admin.site.site_header = "iclrnotes admin"
admin.site.site_title = "iclrnotes admin"


@admin.register(User)
class IclrnotesUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "date_joined")


class ImportForm(forms.Form):
    OPENREVIEW = "openreview"
    SCHEDULE = "schedule"
    CSV = "csv"
    kind = forms.ChoiceField(
        choices=[
            (OPENREVIEW, 'OpenReview notes (papers): JSON array, JSON Lines or {"notes": [...]}'),
            (SCHEDULE, 'Conference schedule: virtual-site JSON {"results": [...]}'),
            (CSV, "Papers (and sessions) as CSV, the shape of the list's CSV export"),
        ],
        widget=forms.RadioSelect,
        initial=OPENREVIEW,
    )
    file = forms.FileField()
    conference = forms.ModelChoiceField(
        Conference.objects.all(),
        required=False,
        help_text="Required for a schedule. For notes, empty means: from the notes' venue id (created if new).",
    )
    name = forms.CharField(
        required=False, max_length=200, help_text="For notes: the conference's name if it is created."
    )
    timezone = forms.CharField(
        required=False,
        max_length=64,
        validators=[validate_timezone],
        help_text="For a schedule: the conference's time zone (e.g. Europe/Vienna), if it is not set yet.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") in (self.SCHEDULE, self.CSV) and not cleaned.get("conference"):
            self.add_error("conference", "Choose the conference this schedule belongs to.")
        return cleaned


@admin.register(Conference)
class ConferenceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "venue_id", "start_date", "end_date", "city", "timezone", "paper_count")
    list_filter = ("timezone",)
    search_fields = ("name", "slug", "venue_id", "city")
    prepopulated_fields = {"slug": ("name",)}
    change_list_template = "admin/papers/conference/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).with_paper_counts()

    @admin.display(description="Papers", ordering="paper_count")
    def paper_count(self, conference: Conference) -> int:
        return conference.paper_count

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="papers_conference_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload an OpenReview notes file or a schedule file; the same importers as the commands."""
        if not self.has_add_permission(request):
            messages.error(request, "You may not import conferences.")
            return redirect("admin:index")
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["file"].read()
            try:
                if form.cleaned_data["kind"] == ImportForm.CSV:
                    summary = import_csv(data, conference=form.cleaned_data["conference"])
                elif form.cleaned_data["kind"] == ImportForm.SCHEDULE:
                    summary = import_schedule(
                        data,
                        conference=form.cleaned_data["conference"],
                        timezone=form.cleaned_data["timezone"] or None,
                    )
                else:
                    conference = form.cleaned_data["conference"]
                    summary = import_openreview(
                        data,
                        conference_slug=conference.slug if conference else None,
                        conference_name=form.cleaned_data["name"] or None,
                    )
            except ImportFailed as error:
                form.add_error("file", f"{error} Nothing was imported.")
            else:
                messages.success(request, str(summary))
                return redirect(reverse("admin:papers_conference_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import papers or a schedule",
            "form": form,
        }
        return TemplateResponse(request, "admin/papers/conference/import.html", context)


class PresentationInline(admin.TabularInline):
    model = Presentation
    extra = 0
    autocomplete_fields = ("session",)
    fields = ("session", "poster_position", "starts_at", "ends_at", "external_id")


class NoteInline(admin.StackedInline):
    model = Note
    extra = 0
    autocomplete_fields = ("author", "lab")
    fields = (("author", "lab", "kind", "done"), "body")
    classes = ("collapse",)

    def get_queryset(self, request):
        # Private notes are their author's alone: the admin lists only shared ones.
        return super().get_queryset(request).filter(lab__isnull=False).select_related("author", "lab")


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ("title", "conference", "tier", "forum_id", "first_author", "updated_at")
    list_filter = ("conference", "tier")
    search_fields = ("title", "forum_id", "abstract")
    list_select_related = ("conference",)
    autocomplete_fields = ("conference",)
    readonly_fields = ("created_at", "updated_at")
    inlines = (PresentationInline, NoteInline)
    list_per_page = 50
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("conference", "forum_id", "number", "title", "authors", "tier", "venue")}),
        ("Content", {"fields": ("abstract", "tldr", "keywords", "primary_area")}),
        ("Links", {"fields": ("pdf_url",)}),
        ("History", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    @admin.display(description="First author")
    def first_author(self, paper: Paper) -> str:
        return paper.authors[0] if paper.authors else "—"


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("title", "conference", "kind", "day", "starts_at", "ends_at", "room", "presentation_count")
    list_filter = ("conference", "kind", "day")
    search_fields = ("title", "room")
    autocomplete_fields = ("conference",)
    date_hierarchy = "day"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("conference")
            .annotate(presentation_count=Count("presentations"))
        )

    @admin.display(description="Papers", ordering="presentation_count")
    def presentation_count(self, session: Session) -> int:
        return session.presentation_count


@admin.register(Presentation)
class PresentationAdmin(admin.ModelAdmin):
    list_display = ("paper", "session", "poster_position", "starts_at")
    list_filter = ("session__conference", "session__kind")
    search_fields = ("paper__title", "paper__forum_id", "session__title", "poster_position")
    autocomplete_fields = ("paper", "session")
    list_select_related = ("paper", "session")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


class InviteInline(admin.TabularInline):
    model = Invite
    extra = 0
    fields = ("token", "created_by", "expires_at", "revoked_at", "max_uses", "uses")
    readonly_fields = ("token", "uses")
    autocomplete_fields = ("created_by",)


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_personal", "member_count", "created_at")
    list_filter = ("is_personal",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline, InviteInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, lab: Lab) -> int:
        return lab.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "lab", "role", "joined_at")
    list_filter = ("role",)
    search_fields = ("user__username", "lab__name")
    autocomplete_fields = ("user", "lab")
    list_select_related = ("user", "lab")


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("lab", "created_by", "created_at", "expires_at", "revoked_at", "uses", "max_uses")
    list_filter = ("lab",)
    search_fields = ("lab__name",)
    autocomplete_fields = ("lab", "created_by")
    readonly_fields = ("token", "uses")
    list_select_related = ("lab", "created_by")


@admin.register(ReadingStatus)
class ReadingStatusAdmin(admin.ModelAdmin):
    list_display = ("user", "paper", "state", "starred", "updated_at")
    list_filter = ("state", "starred", "paper__conference")
    search_fields = ("user__username", "paper__title", "paper__forum_id")
    autocomplete_fields = ("user", "paper")
    list_select_related = ("user", "paper")

    # A status's deletion sends no version bump of its own (papers.signals): the admin's do.
    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        versions.lab_activity_changed(users=[obj.user_id])

    def delete_queryset(self, request, queryset) -> None:
        users = set(queryset.values_list("user_id", flat=True))
        super().delete_queryset(request, queryset)
        versions.lab_activity_changed(users=users)


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("paper", "author", "lab", "kind", "done", "updated_at")
    list_filter = ("kind", "done", "lab")
    search_fields = ("body", "paper__title", "author__username")
    autocomplete_fields = ("paper", "author", "lab")
    list_select_related = ("paper", "author", "lab")
    readonly_fields = ("version", "created_at", "updated_at")

    def get_queryset(self, request):
        # Private notes (no lab) belong to their author alone; staff see only notes shared with a lab.
        return super().get_queryset(request).filter(lab__isnull=False)
