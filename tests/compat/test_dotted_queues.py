"""Queue names with dots through the SDK: a job id is ``{queue_name}.{ULID}`` and the queue is
everything before its last dot, so ``emails.high`` works like any other queue."""

from __future__ import annotations

from spooled import SpooledClient


def test_a_job_of_emails_high(fresh_client: SpooledClient) -> None:
    client = fresh_client
    job_id = client.jobs.create({"queue_name": "emails.high", "payload": {"to": "ada@example.com"}}).id
    queue, _, ulid = job_id.rpartition(".")
    assert (queue, len(ulid)) == ("emails.high", 26)

    job = client.jobs.get(job_id)
    assert (job.id, job.queue_name, job.status) == (job_id, "emails.high", "pending")

    # A neighbour without the dot is another queue.
    other = client.jobs.create({"queue_name": "emails", "payload": {}}).id
    claimed = client.jobs.claim({"queue_name": "emails.high", "worker_id": "w1", "limit": 10}).jobs
    assert [j.id for j in claimed] == [job_id]
    assert claimed[0].queue_name == "emails.high"

    done = client.jobs.complete(
        job_id, {"worker_id": "w1", "lease_id": claimed[0].lease_id, "result": {"sent": True}}
    )
    assert done.success is True
    finished = client.jobs.get(job_id)
    assert (finished.status, finished.result) == ("completed", {"sent": True})
    assert client.jobs.get(other).status == "pending"

    config = client.queues.get("emails.high")
    assert config.queue_name == "emails.high"
    assert client.queues.get_stats("emails.high").completed_jobs_24h == 1
