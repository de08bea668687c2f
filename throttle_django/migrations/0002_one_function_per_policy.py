from django.db import migrations

import throttle_django.postgres


class Migration(migrations.Migration):
    dependencies = [("throttle_django", "0001_initial")]

    operations = [
        throttle_django.postgres.DropSingleDecisionFunction(),
        throttle_django.postgres.DecisionFunction(),
    ]
