"""Every scenario through every framework's driver: the same settings, the same answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integrations.driver import Driver
from tests.integrations.drivers import DRIVERS
from tests.integrations.scenarios import SCENARIOS


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda driver: driver.name)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_scenario(scenario: Callable[[Driver], None], driver: Driver) -> None:
    scenario(driver)
