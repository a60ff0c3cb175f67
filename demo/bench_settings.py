"""Settings of the benchmark's gunicorn (``scripts/bench.py`` sets ``DJANGO_SETTINGS_MODULE``
to this module): the production settings with ``demo.bench_urls`` as the URL configuration,
which adds the bare baseline view. Nothing else differs."""

from certbody.settings import *  # noqa: F403

ROOT_URLCONF = "demo.bench_urls"
