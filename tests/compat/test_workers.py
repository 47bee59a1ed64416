"""The worker registry through the SDK's workers resource."""

from __future__ import annotations

import pytest
from spooled import NotFoundError, SpooledClient


def test_register_heartbeat_get_list_deregister(fresh_client: SpooledClient, queue: str) -> None:
    c = fresh_client
    registered = c.workers.register(
        {
            "queue_name": queue,
            "hostname": "host-1",
            "worker_type": "python",
            "max_concurrency": 7,
            "metadata": {"region": "eu"},
            "version": "1.2.3",
        }
    )
    assert registered.id
    assert registered.queue_name == queue
    assert registered.lease_duration_secs > 0
    assert registered.heartbeat_interval_secs > 0

    assert c.workers.heartbeat(registered.id, {"current_jobs": 2, "status": "healthy"}) is None

    worker = c.workers.get(registered.id)
    assert (worker.id, worker.queue_name, worker.hostname) == (registered.id, queue, "host-1")
    assert worker.max_concurrency == 7
    assert worker.current_jobs == 2
    assert worker.status == "healthy"
    assert worker.metadata == {"region": "eu"}
    assert worker.last_heartbeat.tzinfo is not None

    [summary] = c.workers.list()
    assert (summary.id, summary.queue_name, summary.current_jobs, summary.max_concurrency) == (
        registered.id,
        queue,
        2,
        7,
    )

    # A client-chosen id upserts.
    again = c.workers.register({"queue_name": queue, "hostname": "host-2", "worker_id": "stable-1"})
    assert again.id == "stable-1"
    assert c.workers.register({"queue_name": queue, "hostname": "host-3", "worker_id": "stable-1"}).id == "stable-1"
    assert c.workers.get("stable-1").hostname == "host-3"

    assert c.workers.deregister(registered.id) is None
    remaining = {w.id: w for w in c.workers.list()}
    assert registered.id not in remaining or remaining[registered.id].status == "offline"
    with pytest.raises(NotFoundError):
        c.workers.get("wkr_doesnotexist")

