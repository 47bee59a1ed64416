"""Shared fixtures: the server started by tests/compat/run.sh, an organization made over plain
HTTP (the SDK's own organizations resource needs Spooled's signup flow), and SpooledClients.

Everything else in this suite goes through the SDK's public client API only.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from spooled import SpooledClient

T = TypeVar("T")


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite with tests/compat/run.sh", returncode=2)
    return value


@pytest.fixture(scope="session")
def base_url() -> str:
    return _env("SPOOLED_BASE_URL")


@pytest.fixture(scope="session")
def admin_key() -> str:
    return _env("SPOOLED_ADMIN_KEY")


@pytest.fixture(scope="session")
def new_organization(base_url: str, admin_key: str) -> Callable[[str], dict[str, Any]]:
    """POST /api/v1/organizations with X-Admin-Key; returns the 201 body."""

    def create(name: str) -> dict[str, Any]:
        response = httpx.post(
            f"{base_url}/api/v1/organizations",
            headers={"X-Admin-Key": admin_key},
            json={"name": name},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["api_key"]["key"].startswith("sp_"), body
        return body

    return create


@pytest.fixture(scope="session")
def organization(new_organization: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return new_organization("spooled-python-compat")


@pytest.fixture(scope="session")
def api_key(organization: dict[str, Any]) -> str:
    return organization["api_key"]["key"]


@pytest.fixture(scope="session")
def client(api_key: str, base_url: str) -> Iterator[SpooledClient]:
    with SpooledClient(api_key=api_key, base_url=base_url) as c:
        yield c


@pytest.fixture
def fresh_client(
    new_organization: Callable[[str], dict[str, Any]], base_url: str
) -> Iterator[SpooledClient]:
    """A client of an organization of its own (for tenant-wide reads with exact counts)."""
    org = new_organization(f"fresh-{uuid.uuid4().hex[:8]}")
    with SpooledClient(api_key=org["api_key"]["key"], base_url=base_url) as c:
        yield c


@pytest.fixture
def queue(request: pytest.FixtureRequest) -> str:
    """A queue name no other test uses."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name.removeprefix("test_"))[:40]
    return f"py-{stem}-{uuid.uuid4().hex[:8]}"


def configure_queue_http(base_url: str, api_key: str, queue: str, **fields: Any) -> dict[str, Any]:
    """PUT /queues/{name}/config over plain HTTP, for edgespool's extra settings
    (``backoff_base_secs``, ``backoff_cap_secs``, ``lease_duration_secs``, ...) that the SDK's
    ``UpdateQueueConfigParams`` does not model (it forbids unknown fields)."""
    response = httpx.put(
        f"{base_url}/api/v1/queues/{queue}/config",
        headers={"Authorization": f"Bearer {api_key}"},
        json=fields,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def eventually(check: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05) -> T:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s (last value: {last!r})")
