"""API keys through the SDK: create, list, get, update, delete; the keys really authenticate."""

from __future__ import annotations

import pytest
from spooled import AuthenticationError, AuthorizationError, NotFoundError, SpooledClient, ValidationError


def test_api_key_lifecycle(fresh_client: SpooledClient, base_url: str, queue: str) -> None:
    admin = fresh_client
    created = admin.api_keys.create({"name": "ingest", "queues": [queue]})
    assert created.name == "ingest"
    assert created.key.startswith("sp_")
    assert created.id and created.created_at.tzinfo is not None

    listed = {k.id: k for k in admin.api_keys.list()}
    assert len(listed) == 2, "the organization's first key plus the new one"
    assert listed[created.id].name == "ingest"
    assert listed[created.id].queues == [queue]
    assert listed[created.id].is_active is True
    assert all(created.key not in repr(k) for k in listed.values()), "keys are shown only once"

    key = admin.api_keys.get(created.id)
    assert (key.id, key.name, key.queues, key.is_active) == (created.id, "ingest", [queue], True)
    assert key.key_prefix and created.key.startswith(key.key_prefix)

    # The new key works, within its queue scope.
    with SpooledClient(api_key=created.key, base_url=base_url) as scoped:
        job_id = scoped.jobs.create({"queue_name": queue, "payload": {}}).id
        assert scoped.jobs.get(job_id).queue_name == queue
        with pytest.raises(AuthorizationError):
            scoped.jobs.create({"queue_name": f"{queue}-elsewhere", "payload": {}})

        # An empty scope never means "every queue": it is refused and the scope stays.
        with pytest.raises(ValidationError):
            admin.api_keys.update(created.id, {"queues": []})
        assert admin.api_keys.get(created.id).queues == [queue]
        updated = admin.api_keys.update(created.id, {"name": "ingest-v2", "queues": ["*"]})
        assert (updated.name, updated.queues) == ("ingest-v2", ["*"])
        assert admin.api_keys.get(created.id).name == "ingest-v2"
        scoped.jobs.create({"queue_name": f"{queue}-elsewhere", "payload": {}})

        assert admin.api_keys.delete(created.id) is None
        with pytest.raises(AuthenticationError):
            scoped.jobs.list()

    assert created.id not in {k.id for k in admin.api_keys.list() if k.is_active}
    with pytest.raises(NotFoundError):
        admin.api_keys.get("key_doesnotexist")


def test_deactivated_key_is_refused(fresh_client: SpooledClient, base_url: str) -> None:
    created = fresh_client.api_keys.create({"name": "temp"})
    with SpooledClient(api_key=created.key, base_url=base_url) as other:
        other.jobs.get_stats()
        fresh_client.api_keys.update(created.id, {"is_active": False})
        assert fresh_client.api_keys.get(created.id).is_active is False
        with pytest.raises(AuthenticationError):
            other.jobs.get_stats()


def test_bad_key_is_unauthorized(base_url: str) -> None:
    with SpooledClient(api_key="sp_live_not_a_real_key_at_all", base_url=base_url) as bad:
        with pytest.raises(AuthenticationError):
            bad.jobs.list()
