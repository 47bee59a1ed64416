"""The worker protocol through the SDK's job resource: claim, heartbeat, complete and fail,
all fenced by the claim's ``lease_id``; replay of a dead-lettered job."""

from __future__ import annotations

import pytest
from spooled import ConflictError, NotFoundError, SpooledClient
from spooled.errors import is_lease_expired

from conftest import configure_queue_http, eventually


def claim_one(client: SpooledClient, queue: str, worker: str = "w1", **fields):
    jobs = client.jobs.claim({"queue_name": queue, "worker_id": worker, "limit": 1, **fields}).jobs
    assert len(jobs) == 1, jobs
    return jobs[0]


def test_claim_and_complete(client: SpooledClient, queue: str) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {"n": 1}, "max_retries": 4}).id
    claimed = client.jobs.claim(
        {"queue_name": queue, "worker_id": "w1", "limit": 5, "lease_duration_secs": 60}
    ).jobs
    assert len(claimed) == 1
    job = claimed[0]
    assert job.id == job_id
    assert job.queue_name == queue
    assert job.payload == {"n": 1}
    assert (job.retry_count, job.max_retries, job.timeout_seconds) == (0, 4, 300)
    assert job.lease_id
    assert job.lease_expires_at is not None

    running = client.jobs.get(job_id)
    assert running.status == "processing"
    assert running.lease_id is None, "only the claimer sees the lease id"
    assert running.lease_expires_at == job.lease_expires_at
    assert running.assigned_worker_id == "w1"
    assert running.started_at is not None

    # Nothing else to claim while the lease is live.
    assert client.jobs.claim({"queue_name": queue, "worker_id": "w2"}).jobs == []

    done = client.jobs.complete(
        job_id, {"worker_id": "w1", "lease_id": job.lease_id, "result": {"sent": True}}
    )
    assert done.success is True
    finished = client.jobs.get(job_id)
    assert finished.status == "completed"
    assert finished.result == {"sent": True}
    assert finished.completed_at is not None


def test_heartbeat_extends_the_lease(client: SpooledClient, queue: str) -> None:
    client.jobs.create({"queue_name": queue, "payload": {}})
    job = claim_one(client, queue, lease_duration_secs=10)
    before = client.jobs.get(job.id).lease_expires_at
    assert client.jobs.heartbeat(
        job.id, {"worker_id": "w1", "lease_id": job.lease_id, "lease_duration_secs": 600}
    ) is None
    after = client.jobs.get(job.id).lease_expires_at
    assert before is not None and after is not None
    assert (after - before).total_seconds() > 500


def test_fail_retries_then_complete(
    client: SpooledClient, queue: str, base_url: str, api_key: str
) -> None:
    configure_queue_http(base_url, api_key, queue, backoff_base_secs=0.05, backoff_cap_secs=0.2)
    job_id = client.jobs.create({"queue_name": queue, "payload": {}, "max_retries": 2}).id

    first = claim_one(client, queue)
    failed = client.jobs.fail(
        job_id, {"worker_id": "w1", "lease_id": first.lease_id, "error": "smtp timeout"}
    )
    assert failed.success is True
    job = client.jobs.get(job_id)
    assert job.status == "pending"
    assert job.retry_count == 1
    assert job.last_error == "smtp timeout"
    assert job.lease_id is None

    # The retry becomes claimable after the (short) backoff, with a new lease.
    second = eventually(lambda: client.jobs.claim({"queue_name": queue, "worker_id": "w2"}).jobs)[0]
    assert second.id == job_id
    assert second.retry_count == 1
    assert second.lease_id != first.lease_id

    # The first lease no longer fences anything.
    with pytest.raises(ConflictError) as stale:
        client.jobs.complete(job_id, {"worker_id": "w1", "lease_id": first.lease_id})
    assert is_lease_expired(stale.value)

    client.jobs.complete(job_id, {"worker_id": "w2", "lease_id": second.lease_id, "result": 42})
    job = client.jobs.get(job_id)
    assert (job.status, job.result, job.retry_count) == ("completed", 42, 1)


def test_wrong_lease_is_lease_expired(client: SpooledClient, queue: str) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {}}).id
    job = claim_one(client, queue)
    for call in (
        lambda: client.jobs.complete(job_id, {"worker_id": "w1", "lease_id": "not-the-lease"}),
        lambda: client.jobs.fail(
            job_id, {"worker_id": "w1", "lease_id": "not-the-lease", "error": "x"}
        ),
        lambda: client.jobs.heartbeat(job_id, {"worker_id": "w1", "lease_id": "not-the-lease"}),
    ):
        with pytest.raises(ConflictError) as error:
            call()
        assert is_lease_expired(error.value), error.value.code
    still = client.jobs.get(job_id)
    assert (still.status, still.lease_expires_at) == ("processing", job.lease_expires_at)

    with pytest.raises(NotFoundError):
        client.jobs.complete(
            f"{queue}.01JD3Q0000000000000000000A", {"worker_id": "w1", "lease_id": job.lease_id}
        )


def test_fail_without_retries_dead_letters_and_retry_replays(
    client: SpooledClient, queue: str
) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {}, "max_retries": 0}).id
    job = claim_one(client, queue)
    client.jobs.fail(job_id, {"worker_id": "w1", "lease_id": job.lease_id, "error": "fatal"})
    dead = client.jobs.get(job_id)
    assert (dead.status, dead.last_error) == ("deadletter", "fatal")

    replayed = client.jobs.retry(job_id)
    assert replayed.id == job_id
    assert replayed.status == "pending"
    assert client.jobs.get(job_id).status == "pending"
    with pytest.raises(ConflictError):
        client.jobs.retry(job_id)
    again = claim_one(client, queue)
    assert again.id == job_id
