"""The dead-letter queue through the SDK: list (with paging), retry and purge."""

from __future__ import annotations

import pytest
from spooled import SpooledClient


def dead_letter(client: SpooledClient, queue: str, n: int) -> list[str]:
    """Enqueues ``n`` jobs without retries, claims and fails each: they end dead-lettered."""
    ids = [
        client.jobs.create({"queue_name": queue, "payload": {"i": i}, "max_retries": 0}).id
        for i in range(n)
    ]
    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": n}).jobs
    assert sorted(j.id for j in claimed) == sorted(ids)
    for job in claimed:
        client.jobs.fail(job.id, {"worker_id": "w", "lease_id": job.lease_id, "error": "boom"})
    return ids


def test_list_retry_purge(client: SpooledClient, queue: str) -> None:
    ids = dead_letter(client, queue, 4)
    client.jobs.create({"queue_name": queue, "payload": {"alive": True}})

    listed = client.jobs.dlq.list({"queue_name": queue})
    assert sorted(j.id for j in listed) == sorted(ids)
    assert {j.status for j in listed} == {"deadletter"}
    assert listed.has_more is False

    first = client.jobs.dlq.list({"queue_name": queue, "limit": 3})
    rest = client.jobs.dlq.list({"queue_name": queue, "limit": 3, "offset": 3})
    assert (len(first), first.has_more, len(rest), rest.has_more) == (3, True, 1, False)
    assert [j.id for j in first] + [j.id for j in rest] == [j.id for j in listed]

    retried = client.jobs.dlq.retry({"queue_name": queue, "job_ids": [ids[0]]})
    assert retried.retried_count == 1
    assert retried.retried_jobs == [ids[0]]
    revived = client.jobs.get(ids[0])
    assert (revived.status, revived.retry_count) == ("pending", 0)
    assert sorted(j.id for j in client.jobs.dlq.list({"queue_name": queue})) == sorted(ids[1:])

    with pytest.raises(ValueError):
        client.jobs.dlq.purge({"queue_name": queue, "confirm": False})
    purged = client.jobs.dlq.purge({"queue_name": queue, "confirm": True})
    assert purged.purged_count == 3
    assert list(client.jobs.dlq.list({"queue_name": queue})) == []
    # Purged jobs are gone; the replayed one is still there.
    assert [s.id for s in client.jobs.batch_status(ids)] == [ids[0]]
    # The live jobs are untouched.
    assert {j.status for j in client.jobs.list({"queue_name": queue})} == {"pending"}


def test_retry_whole_queue(client: SpooledClient, queue: str) -> None:
    ids = dead_letter(client, queue, 3)
    retried = client.jobs.dlq.retry({"queue_name": queue, "limit": 2})
    assert retried.retried_count == 2
    assert set(retried.retried_jobs) < set(ids)
    assert retried.job_ids == retried.retried_jobs
    retried = client.jobs.dlq.retry({"queue_name": queue})
    assert retried.retried_count == 1
    assert {s.status for s in client.jobs.batch_status(ids)} == {"pending"}


def test_list_without_queue(fresh_client: SpooledClient, queue: str) -> None:
    a = dead_letter(fresh_client, f"{queue}-a", 1)
    b = dead_letter(fresh_client, f"{queue}-b", 2)
    listed = fresh_client.jobs.dlq.list()
    assert sorted(j.id for j in listed) == sorted(a + b)
    assert {j.queue_name for j in listed} == {f"{queue}-a", f"{queue}-b"}


def test_list_shows_last_error(client: SpooledClient, queue: str) -> None:
    dead_letter(client, queue, 1)
    [summary] = client.jobs.dlq.list({"queue_name": queue})
    assert summary.last_error == "boom"

