"""
Settings of the load benchmark's gunicorn (bench/load.sh): the production settings, and two more URLs
(bench/floor_urls.py) that measure the floor under every page: the least a logged-in request costs here.
"""

from iclrnotes.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
