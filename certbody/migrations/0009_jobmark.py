# JobMark moved here from reporting (reporting 0003). Its table keeps its name and its rows
# (db_table "reporting_jobmark"): this migration only tells Django's state where the model lives.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("certbody", "0008_outgoing_email"),
        ("reporting", "0002_admin_protect_evidence"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="JobMark",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("job", models.CharField(max_length=40, verbose_name="job")),
                        ("object_id", models.PositiveBigIntegerField(verbose_name="object id")),
                        ("threshold", models.CharField(max_length=40, verbose_name="threshold")),
                        ("acted_on", models.DateField(verbose_name="acted on")),
                        ("failed", models.BooleanField(default=False, verbose_name="failed")),
                        ("note", models.CharField(blank=True, max_length=300, verbose_name="note")),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                        ),
                    ],
                    options={
                        "verbose_name": "job record",
                        "verbose_name_plural": "job records",
                        "db_table": "reporting_jobmark",
                        "ordering": ["-created_at", "-pk"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("job", "object_id", "threshold"), name="uniq_job_mark"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
