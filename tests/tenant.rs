//! The tenant actor's logic: keys, the queue catalog and the worker registry.

mod common;
use common::MemorySql;
use edgespool::model::ErrorKind;
use edgespool::tenant::key_store::{KeyChanges, NewKey};
use edgespool::tenant::store::Tenant;
use edgespool::tenant::workers::{NewWorker, WorkerBeat, FORGET_AFTER_MS, OFFLINE_AFTER_MS};

const T0: i64 = 1_767_225_600_000;

fn tenant_db() -> MemorySql {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open"));
    Tenant { sql: &sql }.migrate().expect("schema");
    sql
}

fn worker(id: &str) -> NewWorker {
    NewWorker {
        id: id.into(),
        queue_name: "q".into(),
        hostname: "h".into(),
        max_concurrency: 5,
        ..NewWorker::default()
    }
}

/// A worker silent for two minutes is marked offline by the sweep, and forgotten a day later;
/// a heartbeat keeps it healthy, and the wake time follows the next one to fall silent.
#[test]
fn silent_workers_go_offline_then_are_forgotten() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.register_worker(&worker("a"), T0).unwrap();
    t.register_worker(&worker("b"), T0).unwrap();
    assert_eq!(t.next_worker_wake().unwrap(), Some(T0 + OFFLINE_AFTER_MS));
    t.worker_heartbeat("b", &WorkerBeat { current_jobs: 1, status: "healthy".into(), metadata: None }, T0 + 60_000)
        .unwrap();
    assert_eq!(t.sweep_workers(T0 + OFFLINE_AFTER_MS - 1).unwrap(), 0);
    assert_eq!(t.sweep_workers(T0 + OFFLINE_AFTER_MS).unwrap(), 1);
    assert_eq!(t.get_worker("a").unwrap().status, "offline");
    assert_eq!(t.get_worker("b").unwrap().status, "healthy");
    assert_eq!(t.sweep_workers(T0 + OFFLINE_AFTER_MS).unwrap(), 0, "a second sweep changes nothing");
    t.sweep_workers(T0 + FORGET_AFTER_MS).unwrap();
    assert_eq!(t.get_worker("a").unwrap_err().kind, ErrorKind::NotFound);
}

/// Registering a known id again updates it (one worker), and deregistering names its queue.
#[test]
fn client_chosen_ids_upsert_and_deregister_names_the_queue() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.register_worker(&worker("w"), T0).unwrap();
    t.register_worker(&NewWorker { hostname: "h2".into(), ..worker("w") }, T0 + 1).unwrap();
    let listed = t.list_workers().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].hostname, "h2");
    assert_eq!(t.deregister_worker("w").unwrap(), "q");
    assert_eq!(t.deregister_worker("w").unwrap_err().kind, ErrorKind::NotFound);
}

/// Keys verify by hash while active and unexpired; deactivation, expiry and revocation stop them.
#[test]
fn keys_verify_only_while_active_and_unexpired() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    let key = |id: &str, hash: &str, expires_at| NewKey {
        id: id.into(),
        name: id.into(),
        hash: hash.into(),
        prefix: "sp_live_".into(),
        expires_at,
        ..NewKey::default()
    };
    t.insert_key(&key("k1", "h1", None), T0).unwrap();
    t.insert_key(&key("k2", "h2", Some(T0 + 10)), T0).unwrap();
    assert_eq!(t.verify_key("t", "h1", T0).unwrap().key_id, "k1");
    assert!(t.verify_key("t", "h2", T0 + 9).is_ok());
    assert_eq!(t.verify_key("t", "h2", T0 + 10).unwrap_err().kind, ErrorKind::Unauthorized);
    t.update_key("k1", &KeyChanges { is_active: Some(false), ..KeyChanges::default() }).unwrap();
    assert_eq!(t.verify_key("t", "h1", T0).unwrap_err().kind, ErrorKind::Unauthorized);
    t.revoke_key("k2").unwrap();
    assert_eq!(t.get_key("k2").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(t.verify_key("t", "nope", T0).unwrap_err().kind, ErrorKind::Unauthorized);
}

/// The catalog records a queue once and forgets it on unregister.
#[test]
fn the_queue_catalog_records_each_queue_once() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.register_queue("b", T0).unwrap();
    t.register_queue("a", T0).unwrap();
    t.register_queue("b", T0 + 1).unwrap();
    assert_eq!(t.queue_names().unwrap(), vec!["a", "b"]);
    t.unregister_queue("a").unwrap();
    assert_eq!(t.queue_names().unwrap(), vec!["b"]);
}
