"""The six workloads of issue 6; each is `run(settings, services) -> list[Row]`."""
