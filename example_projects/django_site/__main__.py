"""`python -m example_projects.django_site [ADDRESS]`: migrate the site's database,
then serve the site with gunicorn on ADDRESS (default 127.0.0.1:8000). Any other first
argument is a `manage.py` command: `python -m example_projects.django_site throttle_inspect
login 127.0.0.1`."""

from __future__ import annotations

import os
import sys

SETTINGS = "example_projects.django_site.settings"
APPLICATION = "example_projects.django_site.wsgi:application"


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    from django.core.management import execute_from_command_line

    if argv and ":" not in argv[0]:
        execute_from_command_line(["manage.py", *argv])
        return
    execute_from_command_line(["manage.py", "migrate", "--verbosity", "0"])
    address = argv[0] if argv else "127.0.0.1:8000"
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", APPLICATION, "--bind", address])


if __name__ == "__main__":
    main(sys.argv[1:])
