"""
The full lab export (a JSON download any member can make) and its import into this lab (owners only).

GET /labs/<lab>/import/ is the lab's backup page: the download link for everyone, the upload form for
owners. The import is read and checked whole before anything is written (papers.importers.backup).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from papers.access import get_lab_for_member
from papers.exporters.backup import export_filename, export_lab_json
from papers.importers.backup import import_lab
from papers.importers.base import ImportFailed
from papers.models import Membership

MAX_BACKUP_SIZE = 50 * 1024 * 1024  # bytes; a lab's backup is a few MB


class LabImportForm(forms.Form):
    file = forms.FileField(label="Backup file", help_text="A lab export (.json) from this or another iclrnotes.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BACKUP_SIZE:
            raise forms.ValidationError(f"A backup can be at most {MAX_BACKUP_SIZE // (1024 * 1024)} MB.")
        return upload


@require_GET
@login_required
def lab_export(request: HttpRequest, lab_slug: str) -> HttpResponse:
    """The whole lab as JSON; the only private notes in it are the requesting member's own."""
    lab, _ = get_lab_for_member(request, lab_slug)
    response = HttpResponse(export_lab_json(lab, private_of=request.user), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(lab)}"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def lab_import(request: HttpRequest, lab_slug: str) -> HttpResponse:
    lab, membership = get_lab_for_member(request, lab_slug)
    is_owner = membership.role == Membership.Role.OWNER
    form = None
    if is_owner:
        form = LabImportForm(request.POST, request.FILES) if request.method == "POST" else LabImportForm()
    if request.method == "POST":
        if not is_owner:
            messages.error(request, "Only an owner of the lab can import a backup into it.")
            return redirect("lab_import", lab.slug)
        if form.is_valid():
            try:
                # Private notes: only the importing owner's own; others' stay out even if the file has them.
                summary = import_lab(
                    form.cleaned_data["file"].read(), lab=lab, private_notes_only_of=request.user.username
                )
            except ImportFailed as error:
                form.add_error("file", f"{error} Nothing was imported.")
            else:
                messages.success(
                    request,
                    f"Backup imported: {summary}"
                    if summary.changed
                    else "Nothing new: the lab already holds everything in this backup.",
                )
                return redirect(lab)
    return render(request, "papers/lab_backup.html", {"lab": lab, "is_owner": is_owner, "form": form})
