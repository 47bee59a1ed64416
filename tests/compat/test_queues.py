"""Queues through the SDK: configuration, listing, stats, pause and resume, deletion."""

from __future__ import annotations

import pytest
from spooled import ConflictError, NotFoundError, SpooledClient

from conftest import eventually


def test_config_get_list(client: SpooledClient, queue: str) -> None:
    with pytest.raises(NotFoundError):
        client.queues.get(queue)

    config = client.queues.update_config(
        queue, {"max_retries": 5, "default_timeout": 120, "settings": {"team": "mail"}}
    )
    assert config.queue_name == queue
    assert (config.max_retries, config.default_timeout, config.enabled) == (5, 120, True)
    assert config.settings == {"team": "mail"}
    assert config.organization_id
    assert config.created_at.tzinfo is not None and config.updated_at >= config.created_at

    fetched = client.queues.get(queue)
    assert fetched.model_dump() == config.model_dump()

    listed = {q.queue_name: q for q in client.queues.list()}
    assert queue in listed
    assert (listed[queue].max_retries, listed[queue].default_timeout) == (5, 120)
    assert listed[queue].enabled is True

    # Absent fields keep their values; the queue's defaults apply to new jobs.
    changed = client.queues.update_config(queue, {"default_timeout": 30})
    assert (changed.max_retries, changed.default_timeout) == (5, 30)
    job = client.jobs.create_and_get({"queue_name": queue, "payload": {}})
    assert (job.max_retries, job.timeout_seconds) == (5, 30)
    explicit = client.jobs.create_and_get({"queue_name": queue, "payload": {}, "max_retries": 1})
    assert explicit.max_retries == 1


def test_a_queue_of_jobs_only_has_timestamps(client: SpooledClient, queue: str) -> None:
    """The SDK's QueueConfig requires created_at and updated_at: a queue that exists only
    through its jobs reports its first job's time for both."""
    job_id = client.jobs.create({"queue_name": queue, "payload": {}}).id
    created = client.jobs.get(job_id).created_at

    config = client.queues.get(queue)
    assert config.queue_name == queue
    assert (config.max_retries, config.enabled) == (3, True)
    assert config.created_at == created and config.created_at.tzinfo is not None
    assert config.updated_at == config.created_at
    assert queue in {q.queue_name for q in client.queues.list()}

    # Its first setting keeps the queue's creation time.
    changed = client.queues.update_config(queue, {"max_retries": 1})
    assert changed.created_at == created and changed.updated_at >= created


def test_config_rate_limit(client: SpooledClient, queue: str) -> None:
    config = client.queues.update_config(queue, {"rate_limit": 50})
    assert config.rate_limit == 50
    assert client.queues.get(queue).rate_limit == 50


def test_pause_and_resume(client: SpooledClient, queue: str) -> None:
    first = client.jobs.create({"queue_name": queue, "payload": {"n": 1}}).id

    paused = client.queues.pause(queue, reason="maintenance")
    assert (paused.queue_name, paused.paused, paused.reason) == (queue, True, "maintenance")
    assert paused.paused_at.tzinfo is not None
    assert client.queues.get(queue).enabled is False

    # Claims get nothing while paused; enqueue still works.
    assert client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 10}).jobs == []
    second = client.jobs.create({"queue_name": queue, "payload": {"n": 2}}).id
    assert client.jobs.get(second).status == "pending"

    resumed = client.queues.resume(queue)
    assert (resumed.queue_name, resumed.resumed) == (queue, True)
    assert resumed.paused_duration_secs >= 0
    assert client.queues.get(queue).enabled is True
    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 10}).jobs
    assert [j.id for j in claimed] == [first, second]

    # Pausing without a reason sends an empty object.
    assert client.queues.pause(queue).reason is None
    client.queues.resume(queue)


def test_queue_stats(client: SpooledClient, queue: str) -> None:
    ids = [client.jobs.create({"queue_name": queue, "payload": {}, "max_retries": 0}).id for _ in range(5)]
    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 3}).jobs
    client.jobs.complete(claimed[0].id, {"worker_id": "w", "lease_id": claimed[0].lease_id})
    client.jobs.fail(claimed[1].id, {"worker_id": "w", "lease_id": claimed[1].lease_id, "error": "x"})

    stats = client.queues.get_stats(queue)
    assert stats.queue_name == queue
    assert stats.pending_jobs == 2
    assert stats.processing_jobs == 1
    assert stats.completed_jobs_24h == 1
    assert stats.failed_jobs_24h in (0, 1)  # Spooled counts status `failed` only; edgespool dead letters
    assert stats.active_workers >= 0
    assert stats.max_job_age_seconds is None or stats.max_job_age_seconds >= 0
    assert len(ids) == 5

    unknown = client.queues.get_stats(f"{queue}-never-used")
    assert (unknown.pending_jobs, unknown.processing_jobs, unknown.completed_jobs_24h) == (0, 0, 0)


def test_delete_queue(client: SpooledClient, queue: str) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {}}).id
    client.queues.update_config(queue, {"max_retries": 1})
    with pytest.raises(ConflictError):
        client.queues.delete(queue)
    client.jobs.cancel(job_id)
    assert client.queues.delete(queue) is None
    eventually(lambda: queue not in {q.queue_name for q in client.queues.list()})
    with pytest.raises(NotFoundError):
        client.queues.get(queue)


def test_delete_queue_with_jobs(client: SpooledClient, queue: str) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {}}).id
    client.queues.update_config(queue, {"max_retries": 1})
    client.queues.delete(queue, delete_jobs=True)
    with pytest.raises(NotFoundError):
        client.jobs.get(job_id)
