from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Development data only (zulip's zilencer): ``seed_demo``, ``generate_data`` and the
    benchmark helpers of ``scripts/bench.py``. No models; nothing outside demo/, scripts/ and
    the tests imports it."""

    name = "demo"
    verbose_name = "demo"
