"""Job CRUD through the SDK: create (and its idempotent duplicate), get, list with paging and
filters, cancel, bulk enqueue, stats, batch status and priority."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from spooled import ConflictError, NotFoundError, SpooledClient


def test_create_and_get(client: SpooledClient, queue: str) -> None:
    created = client.jobs.create(
        {
            "queue_name": queue,
            "payload": {"to": "ada@example.com", "nested": {"camelCase": [1, 2]}},
            "priority": 7,
            "max_retries": 2,
            "timeout_seconds": 60,
            "tags": ["email", "welcome"],
            "idempotency_key": f"{queue}-welcome",
        }
    )
    assert created.created is True
    assert created.id

    job = client.jobs.get(created.id)
    assert job.id == created.id
    assert job.queue_name == queue
    assert job.status == "pending"
    # The SDK never converts keys inside payloads; the server must not either.
    assert job.payload == {"to": "ada@example.com", "nested": {"camelCase": [1, 2]}}
    assert job.priority == 7
    assert job.max_retries == 2
    assert job.timeout_seconds == 60
    assert job.retry_count == 0
    assert job.tags == ["email", "welcome"]
    assert job.idempotency_key == f"{queue}-welcome"
    assert job.result is None and job.last_error is None
    assert job.created_at.tzinfo is not None
    assert job.organization_id

    # The same idempotency key answers the existing job, unchanged.
    again = client.jobs.create(
        {"queue_name": queue, "payload": {"other": True}, "idempotency_key": f"{queue}-welcome"}
    )
    assert (again.id, again.created) == (created.id, False)
    assert client.jobs.get(created.id).payload["to"] == "ada@example.com"

    same = client.jobs.create_and_get({"queue_name": queue, "payload": {"n": 2}})
    assert same.status == "pending" and same.payload == {"n": 2}


def test_scheduled_job(client: SpooledClient, queue: str) -> None:
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    job = client.jobs.create_and_get({"queue_name": queue, "payload": {}, "scheduled_at": later})
    assert job.status == "scheduled"
    assert job.scheduled_at is not None
    assert abs((job.scheduled_at - later).total_seconds()) < 1
    assert client.jobs.claim({"queue_name": queue, "worker_id": "w"}).jobs == []


def test_get_unknown_job_is_not_found(client: SpooledClient, queue: str) -> None:
    with pytest.raises(NotFoundError):
        client.jobs.get("does-not-exist")
    with pytest.raises(NotFoundError):
        client.jobs.get(f"{queue}.01JD3Q0000000000000000000A")


def test_list_pages_newest_first(client: SpooledClient, queue: str) -> None:
    ids = [client.jobs.create({"queue_name": queue, "payload": {"i": i}}).id for i in range(7)]

    pages = []
    offset = 0
    while True:
        page = client.jobs.list({"queue_name": queue, "limit": 3, "offset": offset})
        pages.append(page)
        if not page.has_more:
            break
        offset += 3
        assert offset < 100, "paging never ends"

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [p.has_more for p in pages] == [True, True, False]
    listed = [job.id for p in pages for job in p]
    assert listed == list(reversed(ids)), "jobs are listed newest first"
    summary = pages[0][0]
    assert summary.queue_name == queue
    assert summary.status == "pending"
    assert summary.retry_count == 0
    assert summary.max_retries == 3
    assert summary.created_at.tzinfo is not None


def test_list_filters_by_status(client: SpooledClient, queue: str) -> None:
    ids = [client.jobs.create({"queue_name": queue, "payload": {"i": i}}).id for i in range(3)]
    client.jobs.cancel(ids[0])
    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 1}).jobs
    assert [j.id for j in claimed] == [ids[1]]

    def listed(status: str) -> list[str]:
        return [j.id for j in client.jobs.list({"queue_name": queue, "status": status})]

    assert listed("cancelled") == [ids[0]]
    assert listed("processing") == [ids[1]]
    assert listed("pending") == [ids[2]]
    assert listed("completed") == []


def test_list_filters_by_several_statuses(client: SpooledClient, queue: str) -> None:
    ids = [client.jobs.create({"queue_name": queue, "payload": {"i": i}}).id for i in range(3)]
    client.jobs.cancel(ids[0])
    client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 1})
    listed = client.jobs.list({"queue_name": queue, "status": ["pending", "cancelled"]})
    assert sorted(j.id for j in listed) == sorted([ids[0], ids[2]])


def test_list_spans_queues(fresh_client: SpooledClient, queue: str) -> None:
    a = fresh_client.jobs.create({"queue_name": f"{queue}-a", "payload": {}}).id
    b = fresh_client.jobs.create({"queue_name": f"{queue}-b", "payload": {}}).id
    everything = fresh_client.jobs.list()
    assert [j.id for j in everything] == [b, a]
    assert everything.has_more is False
    assert [j.id for j in fresh_client.jobs.list({"queue_name": f"{queue}-a"})] == [a]


def test_cancel(client: SpooledClient, queue: str) -> None:
    job_id = client.jobs.create({"queue_name": queue, "payload": {}}).id
    assert client.jobs.cancel(job_id) is None
    job = client.jobs.get(job_id)
    assert job.status == "cancelled"
    with pytest.raises(ConflictError):
        client.jobs.cancel(job_id)
    with pytest.raises(NotFoundError):
        client.jobs.cancel(f"{queue}.01JD3Q0000000000000000000A")


def test_bulk_enqueue(client: SpooledClient, queue: str) -> None:
    response = client.jobs.bulk_enqueue(
        {
            "queue_name": queue,
            "jobs": [
                {"payload": {"i": 0}},
                {"payload": {"i": 1}, "priority": 50},
                {"payload": {"i": 2}, "idempotency_key": f"{queue}-two"},
                {"payload": {"i": 3}, "idempotency_key": f"{queue}-two"},
            ],
            "default_priority": 5,
            "default_max_retries": 1,
        }
    )
    assert response.total == 4
    assert response.failure_count == 0 and response.failed == []
    assert response.success_count == 4
    assert [r.index for r in response.succeeded] == [0, 1, 2, 3]
    assert [r.created for r in response.succeeded] == [True, True, True, False]
    ids = [r.job_id for r in response.succeeded]
    assert ids[2] == ids[3], "a duplicate key in one batch names the first item's job"

    jobs = [client.jobs.get(i) for i in ids[:3]]
    assert [j.payload for j in jobs] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert [j.priority for j in jobs] == [5, 50, 5]
    assert {j.max_retries for j in jobs} == {1}

    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 10}).jobs
    assert [j.id for j in claimed] == [ids[1], ids[0], ids[2]], "priority first, then FIFO"


def test_stats(fresh_client: SpooledClient, queue: str) -> None:
    c = fresh_client
    ids = [c.jobs.create({"queue_name": queue, "payload": {}, "max_retries": 0}).id for _ in range(5)]
    c.jobs.create(
        {
            "queue_name": f"{queue}-later",
            "payload": {},
            "scheduled_at": datetime.now(timezone.utc) + timedelta(hours=1),
        }
    )
    c.jobs.cancel(ids[4])
    claimed = c.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 3}).jobs
    assert len(claimed) == 3
    c.jobs.complete(claimed[0].id, {"worker_id": "w", "lease_id": claimed[0].lease_id})
    c.jobs.fail(claimed[1].id, {"worker_id": "w", "lease_id": claimed[1].lease_id, "error": "x"})

    stats = c.jobs.get_stats()
    assert stats.model_dump() == {
        "pending": 1,
        "scheduled": 1,
        "processing": 1,
        "completed": 1,
        "failed": 0,
        "deadletter": 1,
        "cancelled": 1,
        "total": 6,
    }


def test_batch_status(client: SpooledClient, queue: str) -> None:
    ids = [client.jobs.create({"queue_name": queue, "payload": {}}).id for _ in range(3)]
    other = client.jobs.create({"queue_name": f"{queue}-other", "payload": {}}).id
    client.jobs.cancel(ids[1])
    unknown = f"{queue}.01JD3Q0000000000000000000A"

    statuses = client.jobs.batch_status([*ids, other, unknown])
    by_id = {s.id: s for s in statuses}
    assert set(by_id) == {*ids, other}, "unknown ids are left out"
    assert by_id[ids[0]].status == "pending"
    assert by_id[ids[1]].status == "cancelled"
    assert by_id[ids[1]].completed_at is not None
    assert by_id[other].queue_name == f"{queue}-other"
    assert all(s.retry_count == 0 for s in statuses)


def test_boost_priority(client: SpooledClient, queue: str) -> None:
    low = client.jobs.create({"queue_name": queue, "payload": {"n": "low"}}).id
    high = client.jobs.create({"queue_name": queue, "payload": {"n": "high"}}).id
    boosted = client.jobs.boost_priority(high, 90)
    assert (boosted.job_id, boosted.old_priority, boosted.new_priority) == (high, 0, 90)
    assert client.jobs.get(high).priority == 90
    claimed = client.jobs.claim({"queue_name": queue, "worker_id": "w", "limit": 2}).jobs
    assert [j.id for j in claimed] == [high, low]


def test_list_search_filters(client: SpooledClient, queue: str) -> None:
    email = client.jobs.create({"queue_name": queue, "payload": {"job_type": "email"}}).id
    client.jobs.create({"queue_name": queue, "payload": {"job_type": "sms"}})
    by_type = client.jobs.list({"queue_name": queue, "job_type": "email"})
    assert [j.id for j in by_type] == [email]
    assert by_type[0].job_type == "email"
    assert [j.id for j in client.jobs.list({"queue_name": queue, "q": "emai"})] == [email]
    future = datetime.now(timezone.utc) + timedelta(hours=1)
    assert list(client.jobs.list({"queue_name": queue, "created_after": future})) == []
