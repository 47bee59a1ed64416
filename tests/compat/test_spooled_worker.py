"""The SDK's own worker runtime, SpooledWorker, against the server: 100 jobs, every fifth fails
its first attempt and is retried; all end `completed`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from spooled import NotFoundError, SpooledClient
from spooled.worker import SpooledWorker

from conftest import configure_queue_http

JOBS = 100
DEADLINE_SECS = 90


def test_spooled_worker_processes_jobs_with_retries(
    client: SpooledClient, queue: str, base_url: str, api_key: str
) -> None:
    # Short retry delays (edgespool's per-queue backoff; the SDK does not model these fields).
    configure_queue_http(base_url, api_key, queue, backoff_base_secs=0.05, backoff_cap_secs=0.2)
    enqueued = client.jobs.bulk_enqueue(
        {
            "queue_name": queue,
            "jobs": [{"payload": {"n": n, "flaky": n % 5 == 0}} for n in range(JOBS)],
            "default_max_retries": 3,
        }
    )
    assert enqueued.success_count == JOBS
    ids = [r.job_id for r in enqueued.succeeded]
    flaky = {job_id for n, job_id in enumerate(ids) if n % 5 == 0}

    lock = threading.Lock()
    attempts: Counter[str] = Counter()
    completed: list[str] = []
    failed: list[tuple[str, bool]] = []
    errors: list[BaseException] = []
    lost: list[str] = []

    with SpooledClient(api_key=api_key, base_url=base_url) as worker_client:
        worker = SpooledWorker(
            worker_client,
            queue_name=queue,
            concurrency=10,
            poll_interval=0.05,
            lease_duration=30,
            shutdown_timeout=10,
            hostname="compat-test",
        )

        @worker.process
        def handle(ctx: Any) -> dict[str, Any]:
            with lock:
                attempts[ctx.job_id] += 1
            if ctx.payload["flaky"] and ctx.retry_count == 0:
                raise RuntimeError(f"first attempt of job {ctx.payload['n']} fails")
            return {"n": ctx.payload["n"], "retry_count": ctx.retry_count}

        worker.on("job:completed", lambda e: completed.append(e.job_id))
        worker.on("job:failed", lambda e: failed.append((e.job_id, e.will_retry)))
        worker.on("job:lease_lost", lambda e: lost.append(e.job_id))
        worker.on("error", lambda e: errors.append(e.error))

        runner = threading.Thread(target=worker.start, name="spooled-worker", daemon=True)
        started = time.monotonic()
        runner.start()
        try:
            done: dict[str, str] = {}
            while time.monotonic() - started < DEADLINE_SECS:
                done = {s.id: s.status for s in client.jobs.batch_status(ids)}
                if len(done) == JOBS and set(done.values()) == {"completed"}:
                    break
                assert not errors, f"worker errors: {errors!r}"
                assert runner.is_alive(), "the worker stopped on its own"
                time.sleep(0.25)
            else:
                pytest.fail(
                    f"not all jobs completed within {DEADLINE_SECS} s: {Counter(done.values())}"
                )
            worker_id = worker.worker_id
            assert worker_id
        finally:
            worker.stop()
            runner.join(timeout=30)
        elapsed = time.monotonic() - started

    assert not runner.is_alive()
    assert worker.state == "stopped"
    assert errors == [], f"worker errors: {errors!r}"
    assert lost == []

    # Every job's final state, read one by one through the SDK.
    for n, job_id in enumerate(ids):
        job = client.jobs.get(job_id)
        expected_retries = 1 if job_id in flaky else 0
        assert job.status == "completed", (n, job.status, job.last_error)
        assert job.result == {"n": n, "retry_count": expected_retries}
        assert job.retry_count == expected_retries
        assert attempts[job_id] == expected_retries + 1
        if job_id in flaky:
            assert job.last_error == f"first attempt of job {n} fails"
        assert job.completed_at is not None

    assert sorted(completed) == sorted(ids)
    assert sorted(failed) == sorted((job_id, True) for job_id in flaky)
    assert len(flaky) == JOBS // 5

    stats = client.queues.get_stats(queue)
    assert (stats.pending_jobs, stats.processing_jobs, stats.completed_jobs_24h) == (0, 0, JOBS)
    assert list(client.jobs.dlq.list({"queue_name": queue})) == []

    # The worker deregistered on stop.
    try:
        status = client.workers.get(worker_id).status
    except NotFoundError:
        status = "gone"
    assert status in ("gone", "offline"), status
    print(f"SpooledWorker: {JOBS} jobs, {len(flaky)} retried, {elapsed:.1f} s")
