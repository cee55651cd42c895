from unittest import mock

import pytest
from django.db import connection


@pytest.fixture(params=["postgresql", "sqlite"])
def vendor(request, people):
    """Each test runs on PostgreSQL's indexes and on the embedded default's rapidfuzz, over the
    `people` its module lists."""
    if request.param == "sqlite":
        with mock.patch.object(connection, "vendor", "sqlite"):
            yield request.param
    else:
        yield request.param
