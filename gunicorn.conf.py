"""What `gunicorn` run in this folder reads: the web processes' settings, in config/gunicorn.py
(also `gunicorn -c python:config.gunicorn` wherever the package is installed)."""

from config.gunicorn import *  # noqa: F403
