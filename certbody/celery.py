"""The Celery application. Without REDIS_URL tasks run eagerly, in-process (settings)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certbody.settings")

app = Celery("certbody")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
