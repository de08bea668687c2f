"""The LICENSE file is the license pyproject.toml declares, and the installed distribution
carries both."""

from __future__ import annotations

import re
from importlib.metadata import distributions

from tests.test_docs import ROOT

LICENSES = {
    "MIT": (
        "MIT License",
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
        'software and associated documentation files (the "Software"), to deal in the '
        "Software without restriction",
    ),
}
"""For each SPDX id a project may declare: its text's title line and a sentence of its own."""


def declared_license() -> str:
    found = re.search(r'^license = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found is not None, "pyproject.toml declares no license"
    return found.group(1)


def test_the_license_file_is_the_declared_license() -> None:
    declared = declared_license()
    assert declared in LICENSES, f"pyproject.toml declares {declared!r}: which text is that?"
    title, sentence = LICENSES[declared]
    text = (ROOT / "LICENSE").read_text()
    assert text.splitlines()[0] == title
    assert sentence in " ".join(text.split())


def test_the_installed_distribution_declares_it_and_ships_the_file() -> None:
    """Every copy of the metadata Python finds says so: the installed .dist-info, and the
    egg-info a build leaves in the checkout, which comes first on the test path."""
    found = list(distributions(name="throttle-suite"))
    assert any(str(getattr(d, "_path", "")).endswith(".dist-info") for d in found), (
        "throttle-suite is not installed (only a build's egg-info in the checkout was found)"
    )
    for installed in (d.metadata for d in found):
        assert installed["License-Expression"] == declared_license()
        assert "LICENSE" in (installed.get_all("License-File") or [])
