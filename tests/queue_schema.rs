//! The schema: a jobs table made with the old `status IN (…)` check is rebuilt once, keeping
//! every job, the job count, the indexes and the constraints; and a queue that was never given a
//! job or a setting answers from a schema it does not keep.

mod common;
mod support;
use common::*;
use edgespool::model::ApiError;
use edgespool::queue::ack::{AckItem, FailItem};
use edgespool::queue::listing::ListFilter;
use edgespool::queue::manage::DeadLetterSelection;
use edgespool::queue::protocol::{execute, QueueCommand, QueueReply};
use edgespool::queue::record::QueueStats;
use edgespool::queue::{schema, QueueSettings, Sql, SqlValue};
use support::*;

/// The jobs table as the first release created it.
const OLD_JOBS: &str = "CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN
        ('pending','scheduled','processing','completed','failed','deadletter','cancelled')),
    payload TEXT NOT NULL, result TEXT,
    priority INTEGER NOT NULL CHECK (priority BETWEEN -100 AND 100),
    retry_count INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL CHECK (max_retries BETWEEN 0 AND 100),
    timeout_seconds INTEGER NOT NULL, last_error TEXT, tags TEXT, idempotency_key TEXT UNIQUE,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, scheduled_at INTEGER,
    started_at INTEGER, completed_at INTEGER, expires_at INTEGER, worker_id TEXT, lease_id TEXT,
    lease_secs INTEGER, lease_expires_at INTEGER,
    CHECK ((status = 'processing') = (lease_expires_at IS NOT NULL)),
    CHECK (retry_count BETWEEN 0 AND max_retries + 1))";

fn jobs_ddl(sql: &MemorySql) -> String {
    match &sql.query("SELECT sql FROM sqlite_master WHERE name = 'jobs'", &[]).unwrap()[0][0] {
        SqlValue::Text(ddl) => ddl.clone(),
        other => panic!("no jobs table: {other:?}"),
    }
}

#[test]
fn an_old_jobs_table_is_rebuilt_with_its_jobs_count_and_indexes() {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().unwrap());
    sql.query(OLD_JOBS, &[]).unwrap();
    for n in 0..3 {
        let insert = "INSERT INTO jobs (id, status, payload, priority, max_retries, timeout_seconds, created_at, \
                      updated_at) VALUES (?1, 'pending', '{}', 0, 3, 300, ?2, ?2)";
        sql.query(insert, &[format!("q.old{n}").into(), T0.into()]).unwrap();
    }
    schema::migrate(&sql).unwrap();
    assert!(!jobs_ddl(&sql).contains("status IN"), "migrated: {}", jobs_ddl(&sql));
    schema::migrate(&sql).unwrap();
    let count = sql.query("SELECT n FROM job_count", &[]).unwrap();
    assert_eq!(count[0][0], SqlValue::Integer(3));
    let bad = "INSERT INTO jobs (id, status, payload, priority, max_retries, timeout_seconds, created_at, \
               updated_at) VALUES ('q.bad', 'lost', '{}', 0, 3, 300, 0, 0)";
    assert!(sql.query(bad, &[]).is_err(), "the status check still holds");

    // The old jobs are claimed and acknowledged through the rebuilt indexes (batch ack names
    // the id index explicitly).
    let mut fx = Fixture { sql, settings: QueueSettings::default(), entropy: SeededEntropy::new(7) };
    fx.add(spec("4"), T0);
    let jobs = fx.claim(10, T0);
    assert_eq!(jobs.iter().map(|j| j.id.as_str()).collect::<Vec<_>>()[..3], ["q.old0", "q.old1", "q.old2"]);
    let acks: Vec<AckItem> =
        jobs.iter().map(|j| AckItem { id: j.id.clone(), lease_id: j.lease_id.clone(), result: None }).collect();
    let outcomes = queue(&fx.sql, &fx.settings).ack_batch(&acks, &[], T0 + SEC, &mut fx.entropy).unwrap();
    assert_eq!(outcomes.iter().filter(|o| o.result.is_ok()).count(), 4, "{outcomes:?}");
}

#[test]
fn a_queue_stores_its_identity_once() {
    use edgespool::queue::identity::{self, QueueIdentity};
    let sql = MemorySql::with_queue_schema();
    assert_eq!(identity::load(&sql).unwrap(), None, "a new database knows nobody");
    let me = QueueIdentity { tenant: "t1".into(), name: "emails".into() };
    identity::store(&sql, &me).unwrap();
    identity::store(&sql, &QueueIdentity { tenant: "t2".into(), name: "other".into() }).unwrap();
    assert_eq!(identity::load(&sql).unwrap(), Some(me), "the first identity stays");
}

/// Every command that does not create the queue, naming things that do not exist.
fn commands_that_find_nothing() -> Vec<QueueCommand> {
    let id = || "q.01ARZ3NDEKTSV4RRFFQ69G5FAV".to_owned();
    let ack = AckItem { id: id(), lease_id: "l".into(), result: None };
    let fail = FailItem {
        id: "q.01ARZ3NDEKTSV4RRFFQ69G5FAW".into(),
        lease_id: "l".into(),
        error: "e".into(),
        retry_after_secs: None,
    };
    let filter = ListFilter {
        statuses: vec![],
        tag: None,
        job_type: None,
        search: None,
        created_after: None,
        created_before: None,
        limit: 10,
        offset: 0,
    };
    vec![
        QueueCommand::Get { id: id() },
        QueueCommand::Cancel { id: id() },
        QueueCommand::Replay { id: id() },
        QueueCommand::Claim(claim_request(10)),
        QueueCommand::Complete { id: id(), fence: lease("l"), result: None },
        QueueCommand::Fail { id: id(), fence: lease("l"), error: "e".into(), retry_after_secs: None },
        QueueCommand::Heartbeat { id: id(), fence: by_worker("w1"), lease_secs: None },
        QueueCommand::ReplayDeadLetters { selection: DeadLetterSelection::Oldest(10) },
        QueueCommand::ReplayDeadLetters { selection: DeadLetterSelection::Ids(vec![id()]) },
        QueueCommand::PurgeDeadLetters { selection: DeadLetterSelection::Oldest(10), older_than: None },
        QueueCommand::ListJobs { filter },
        QueueCommand::JobStatuses { ids: vec![id()] },
        QueueCommand::Stats,
        QueueCommand::SetPriority { id: id(), priority: 5 },
        QueueCommand::GetConfig,
        QueueCommand::Resume,
        QueueCommand::DeleteQueue { delete_jobs: true },
        QueueCommand::Ack { acks: vec![ack], fails: vec![fail] },
        QueueCommand::ReleaseWorker { worker_id: "w1".into() },
        QueueCommand::SetSubscriptions { version: 0, consumers: vec![] },
        QueueCommand::ReadEvents { consumer: "c".into(), after: 0, limit: 10 },
    ]
}

/// An outcome as JSON, the database size left out (a missing queue has no database).
fn outcome_json(outcome: Result<QueueReply, ApiError>) -> String {
    let outcome = outcome.map(|reply| match reply {
        QueueReply::Stats(stats) => QueueReply::Stats(QueueStats { database_bytes: 0, ..stats }),
        other => other,
    });
    serde_json::to_string(&outcome).unwrap()
}

#[test]
fn a_missing_queue_answers_every_command_as_its_empty_tables_would() {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().unwrap());
    assert!(!schema::exists(&sql).unwrap(), "a fresh database has no queue");
    schema::migrate(&sql).unwrap();
    assert!(schema::exists(&sql).unwrap());
    let settings = QueueSettings::default();
    for command in commands_that_find_nothing() {
        assert!(!command.traits().creates_queue, "{command:?} creates the queue");
        let missing = command.answer_for_missing_queue().unwrap_or_else(|| panic!("{command:?} has no answer"));
        let empty = execute(&queue(&sql, &settings), command.clone(), T0, &mut SeededEntropy::new(1)).map(|e| e.reply);
        assert_eq!(outcome_json(missing), outcome_json(empty), "{command:?}");
    }
}

#[test]
fn only_jobs_and_settings_create_a_queue() {
    let creates = |command: QueueCommand| command.traits().creates_queue;
    assert!(creates(QueueCommand::Enqueue { job: spec("{}") }));
    assert!(creates(QueueCommand::EnqueueBulk { jobs: vec![spec("{}")] }));
    assert!(creates(QueueCommand::Configure { changes: Default::default() }));
    assert!(creates(QueueCommand::Pause { reason: None }));
    for command in [
        QueueCommand::Enqueue { job: spec("{}") },
        QueueCommand::EnqueueBulk { jobs: vec![spec("{}")] },
        QueueCommand::Configure { changes: Default::default() },
        QueueCommand::Pause { reason: None },
    ] {
        assert!(command.answer_for_missing_queue().is_none(), "{command:?} is answered without the queue");
    }
    assert!(commands_that_find_nothing().into_iter().all(|c| !creates(c)));
}
