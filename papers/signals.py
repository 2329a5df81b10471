import copy

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from papers import services, versions
from papers.models import (
    Assignment,
    Conference,
    Lab,
    Meeting,
    MeetingPaper,
    Membership,
    Nomination,
    Note,
    Paper,
    Presentation,
    ReadingStatus,
    Session,
    Vote,
)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="personal_lab_for_new_user")
def give_new_user_a_personal_lab(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # However a user is made (sign-up, admin, createsuperuser, demo), triage works alone from the start.
    if created and not raw:
        services.create_personal_lab(user=instance)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="release_deleted_account")
def release_deleted_account(sender, instance, **kwargs) -> None:
    # However an account is deleted (the admin, a script), nobody's papers of a lab's split go unassigned.
    services.release_account(user=instance)


# --- Version stamps (papers.versions): every save and delete of what a cached page shows -----------------
# Writes that send no signal (QuerySet.update, bulk_create, bulk_update, COPY) bump the versions themselves,
# and so do deletions of statuses and assignments: a delete receiver would make Django load the rows a
# cascade deletes one by one, and delete the ones that a pre_delete receiver (release_account) had just
# handed to someone else. What a cascade removes with them is covered by the parent's receiver (a member's
# statuses by the membership's, a paper's by the programme's).


def _lab_activity(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # loaddata: the fixture's rows, no cache to keep
        return
    if isinstance(instance, ReadingStatus):
        versions.lab_activity_changed(users=[instance.user_id])
    elif isinstance(instance, Note):
        # A shared note shows in its lab, a private one in each of its author's labs.
        versions.lab_activity_changed(labs=[instance.lab_id], users=[instance.author_id])
    elif isinstance(instance, Lab):
        if not kwargs.get("created"):  # a new lab has nothing cached yet
            # Its name also shows in its authors' other labs, beside their own notes shared with it (a former
            # member's too: an author always sees their notes).
            authors = Note.all_objects.filter(lab_id=instance.pk).values_list("author_id", flat=True).distinct()
            versions.lab_activity_changed(labs=[instance.pk], users={*authors} - {None})
    elif isinstance(instance, MeetingPaper):
        versions.lab_activity_changed(labs=Meeting.objects.filter(pk=instance.meeting_id).values("lab_id"))
    elif isinstance(instance, Session) and instance.lab_id is None:
        versions.programme_changed(conferences=[instance.conference_id])
    else:  # Membership, Assignment, Nomination, Vote, Meeting, a lab's own Session
        versions.lab_activity_changed(labs=[instance.lab_id])


def _programme(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    if isinstance(instance, Conference):
        versions.programme_changed(conferences=[instance.pk])
    elif isinstance(instance, Presentation):
        versions.programme_changed(conferences=Paper.objects.filter(pk=instance.paper_id).values("conference_id"))
    else:  # Paper
        versions.programme_changed(conferences=[instance.conference_id])


for _model in (ReadingStatus, Note, Lab, Membership, Assignment, Nomination, Vote, Meeting, MeetingPaper, Session):
    post_save.connect(_lab_activity, sender=_model, dispatch_uid=f"versions_{_model.__name__}_saved")
    if _model not in (ReadingStatus, Assignment):
        post_delete.connect(_lab_activity, sender=_model, dispatch_uid=f"versions_{_model.__name__}_deleted")
for _model in (Conference, Paper, Presentation):
    post_save.connect(_programme, sender=_model, dispatch_uid=f"versions_{_model.__name__}_saved")
    post_delete.connect(_programme, sender=_model, dispatch_uid=f"versions_{_model.__name__}_deleted")


@receiver(m2m_changed, sender=Meeting.attendees.through, dispatch_uid="versions_meeting_attendees")
def meeting_attendees_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action.startswith("post_"):
        versions.lab_activity_changed(
            labs=[instance.lab_id] if not reverse else Meeting.objects.filter(pk__in=pk_set or ()).values("lab_id")
        )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="versions_user_saved")
def user_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    # A username shows on the lab's pages; a login (last_login alone) changes nothing shown.
    if not created and not raw and set(update_fields or ()) != {"last_login"}:
        versions.lab_activity_changed(users=[instance.pk])
        versions.lab_activity_changed(labs=versions.labs_shown_in(instance))


# The fields that say on whose pages a row shows. A row moved elsewhere (in the admin: a paper to another
# conference, a note to another lab, …) leaves its old place stale too: bump that place as well.
_OWNERS = {
    ReadingStatus: ("user_id",),
    Note: ("lab_id", "author_id"),
    Membership: ("lab_id",),
    Assignment: ("lab_id",),
    Nomination: ("lab_id",),
    Vote: ("lab_id",),
    Meeting: ("lab_id",),
    MeetingPaper: ("meeting_id",),
    Session: ("lab_id", "conference_id"),
    Paper: ("conference_id",),
    Presentation: ("paper_id",),
}


def _moved(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    fields = _OWNERS[sender]
    if raw or instance._state.adding:
        return
    if update_fields is not None and not {*fields, *(field.removesuffix("_id") for field in fields)} & set(
        update_fields
    ):
        return  # e.g. a meeting's held_at: its place cannot have changed
    before = sender._base_manager.filter(pk=instance.pk).values(*fields).first()
    if before is None or all(before[field] == getattr(instance, field) for field in fields):
        return
    old = copy.copy(instance)
    for field, value in before.items():
        setattr(old, field, value)
    (_programme if sender in (Paper, Presentation) else _lab_activity)(sender, old)


for _model in _OWNERS:
    pre_save.connect(_moved, sender=_model, dispatch_uid=f"versions_{_model.__name__}_moved")
