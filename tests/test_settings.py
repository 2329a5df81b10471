"""The production branch of the settings, run as a deployment would: in a fresh process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="notes.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    result = manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off." in result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = manage("check", DEBUG="maybe")
    assert "DEBUG must be a boolean (1/0, true/false), not 'maybe'." in result.stderr


def test_migrations_match_the_models():
    result = manage("makemigrations", "--check", "--dry-run", DEBUG="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_a_bad_log_level_is_a_clear_error():
    result = manage("check", DEBUG="1", LOG_LEVEL="verbose")
    assert "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'VERBOSE'." in result.stderr


def test_postgresql_connections_give_up_after_a_few_seconds():
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS']['connect_timeout'])"
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    assert manage("shell", "-c", code, **env).stdout.split()[-1] == "5"
    assert manage("shell", "-c", code, DATABASE_CONNECT_TIMEOUT="2", **env).stdout.split()[-1] == "2"
