from django.db import migrations, models

import throttle_django.postgres


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="State",
            fields=[
                ("id", models.CharField(max_length=768, primary_key=True, serialize=False)),
                ("data", models.JSONField()),
                ("expires_at", models.DateTimeField(db_index=True, null=True)),
            ],
            options={
                "verbose_name": "rate-limit state",
                "verbose_name_plural": "rate-limit states",
            },
        ),
        throttle_django.postgres.DecisionFunction(),
    ]
