from django import forms
from django.contrib.auth.forms import UserCreationForm

from papers.models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; for password resets.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
