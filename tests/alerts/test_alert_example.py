"""The example alerts file is valid as shipped."""

from __future__ import annotations

import yaml

from catalog.alerts.settings import AlertsFile, load
from tests.conftest import PROJECT

EXAMPLE = PROJECT / "examples" / "alerts" / "alerts.yaml"


def test_the_example_alerts_file_loads_once_its_secrets_are_in_the_environment() -> None:
    variables = AlertsFile.model_validate(yaml.safe_load(EXAMPLE.read_text())).secret_variables()
    loaded = load(EXAMPLE, environ=dict.fromkeys(variables, "x"))
    assert loaded.configured("slack:#data-platform")
    assert loaded.file.subscriptions[0].to == ["slack:#data-platform"]
