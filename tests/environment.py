"""
Loaded by pytest before Django (pyproject: `-p tests.environment`): the suite runs the settings'
development branch (no HTTPS redirect, plain static storage). The production branch has its own
test (tests/test_settings.py) that runs `check --deploy` in a subprocess.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789")
