"""Fixtures of the staff pages' tests: a copy of the project tree, a gateway with staff accounts."""

from __future__ import annotations

import pytest

from tests.staff import NAME, accounts, copy_project


@pytest.fixture
def project_copy(tmp_path_factory):
    return copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture
def staff_gateway(gateway, tmp_path, project_copy):
    accounts_file = accounts(tmp_path / "staff_accounts.json", NAME, "suzuki", "yamada")

    def open_staff(**overrides):
        return gateway(
            STAFF_ACCOUNTS_FILE=accounts_file, STAFF_PROJECT_ROOT=project_copy, **overrides
        )

    return open_staff
