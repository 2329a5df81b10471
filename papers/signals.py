from django.conf import settings
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from papers import services


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="personal_lab_for_new_user")
def give_new_user_a_personal_lab(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # However a user is made (sign-up, admin, createsuperuser, demo), triage works alone from the start.
    if created and not raw:
        services.create_personal_lab(user=instance)


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="release_deleted_account")
def release_deleted_account(sender, instance, **kwargs) -> None:
    # However an account is deleted (the admin, a script), nobody's papers of a lab's split go unassigned.
    services.release_account(user=instance)
