//! The tenant actor's logic: keys, the queue catalog and the worker registry.

mod common;
use common::MemorySql;
use edgespool::model::ErrorKind;
use edgespool::tenant::key_store::{KeyChanges, NewKey};
use edgespool::tenant::protocol::TenantCommand;
use edgespool::tenant::scope::Grantor;
use edgespool::tenant::store::{NewOrganization, QueuePage, Tenant};
use edgespool::tenant::workers::{NewWorker, WorkerBeat, WorkerPage, WorkerRecord, FORGET_AFTER_MS, OFFLINE_AFTER_MS};

const T0: i64 = 1_767_225_600_000;

fn tenant_db() -> MemorySql {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open"));
    Tenant { sql: &sql }.migrate().expect("schema");
    sql
}

/// Generous enough that no test but the limit's own meets it.
const LIMIT: u32 = 1_000;

fn every_worker() -> WorkerPage {
    WorkerPage { queues: None, limit: 100, offset: 0 }
}

fn listed(t: &Tenant, page: &WorkerPage) -> (Vec<WorkerRecord>, bool) {
    t.list_workers(page).unwrap()
}

fn key(id: &str, hash: &str, expires_at: Option<i64>) -> NewKey {
    NewKey {
        id: id.into(),
        name: id.into(),
        hash: hash.into(),
        prefix: "sp_live_".into(),
        expires_at,
        ..NewKey::default()
    }
}

fn by(key_id: &str) -> Grantor<'_> {
    Grantor { key_id, default_rate_limit: Some(600_000) }
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
    t.register_worker(&worker("a"), LIMIT, T0).unwrap();
    t.register_worker(&worker("b"), LIMIT, T0).unwrap();
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
    t.register_worker(&worker("w"), LIMIT, T0).unwrap();
    t.register_worker(&NewWorker { hostname: "h2".into(), ..worker("w") }, LIMIT, T0 + 1).unwrap();
    let (listed, _) = t.list_workers(&every_worker()).unwrap();
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
    t.insert_key(&key("admin", "h0", None), T0).unwrap();
    t.insert_key(&key("k1", "h1", None), T0).unwrap();
    t.insert_key(&key("k2", "h2", Some(T0 + 10)), T0).unwrap();
    assert_eq!(t.verify_key("t", "h1", T0).unwrap().key_id, "k1");
    assert!(t.verify_key("t", "h2", T0 + 9).is_ok());
    assert_eq!(t.verify_key("t", "h2", T0 + 10).unwrap_err().kind, ErrorKind::Unauthorized);
    t.update_key("k1", &KeyChanges { is_active: Some(false), ..KeyChanges::default() }, by("admin")).unwrap();
    assert_eq!(t.verify_key("t", "h1", T0).unwrap_err().kind, ErrorKind::Unauthorized);
    t.revoke_key("k2", by("admin")).unwrap();
    assert_eq!(t.get_key("k2").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(t.verify_key("t", "nope", T0).unwrap_err().kind, ErrorKind::Unauthorized);
}

/// Every catalogued queue, by name.
fn catalog(t: &Tenant) -> Vec<String> {
    t.queue_page(&QueuePage { queues: None, after: None, limit: LIMIT }).unwrap().0
}

/// The catalog records a queue once and forgets it on unregister.
#[test]
fn the_queue_catalog_records_each_queue_once() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.register_queue("b", LIMIT, T0).unwrap();
    t.register_queue("a", LIMIT, T0).unwrap();
    t.register_queue("b", LIMIT, T0 + 1).unwrap();
    assert_eq!(catalog(&t), vec!["a", "b"]);
    t.unregister_queue("a").unwrap();
    assert_eq!(catalog(&t), vec!["b"]);
}

/// Past its limit the catalog refuses a new queue (429 `QUEUE_LIMIT`, with the numbers) and
/// records nothing; known queues still pass, and deleting one frees its place.
#[test]
fn the_queue_catalog_is_bounded() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    for q in ["a", "b", "c"] {
        t.register_queue(q, 3, T0).unwrap();
    }
    let err = t.register_queue("d", 3, T0).unwrap_err();
    assert_eq!(err.kind, ErrorKind::QueueLimit);
    assert_eq!(err.details, Some(serde_json::json!({ "resource": "queues", "current": 3, "limit": 3 })));
    assert_eq!(catalog(&t), vec!["a", "b", "c"]);
    t.register_queue("a", 2, T0).unwrap();
    t.unregister_queue("b").unwrap();
    t.register_queue("d", 3, T0).unwrap();
    assert_eq!(catalog(&t), vec!["a", "c", "d"]);
}

/// The catalog pages by name after a cursor, within a key's scope, and says whether more
/// follow.
#[test]
fn the_queue_catalog_pages_by_name_within_a_scope() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    for q in ["e", "d", "c", "b", "a"] {
        t.register_queue(q, LIMIT, T0).unwrap();
    }
    let page = |queues: Option<&[&str]>, after: Option<&str>, limit| {
        let queues = queues.map(|q| q.iter().map(|s| s.to_string()).collect());
        t.queue_page(&QueuePage { queues, after: after.map(str::to_owned), limit }).unwrap()
    };
    assert_eq!(page(None, None, 2), (vec!["a".to_owned(), "b".to_owned()], true));
    assert_eq!(page(None, Some("b"), 2), (vec!["c".to_owned(), "d".to_owned()], true));
    assert_eq!(page(None, Some("d"), 2), (vec!["e".to_owned()], false));
    assert_eq!(page(Some(&["b", "e", "x"]), Some("a"), 1), (vec!["b".to_owned()], true));
    assert_eq!(page(Some(&["b", "e", "x"]), Some("b"), 1), (vec!["e".to_owned()], false));
}

/// A worker id belongs to its queue: registering it on another queue is refused and changes
/// nothing, so the owner's deregistration still names the queue whose leases it releases.
#[test]
fn a_worker_id_never_moves_to_another_queue() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.register_worker(&NewWorker { metadata: Some(r#"{"zone":"eu"}"#.into()), ..worker("w") }, LIMIT, T0).unwrap();
    let moved = NewWorker { queue_name: "other".into(), ..worker("w") };
    let err = t.register_worker(&moved, LIMIT, T0 + 1).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(!err.message.contains("'q'"), "the refusal names the worker's queue: {}", err.message);
    let kept = t.get_worker("w").unwrap();
    assert_eq!((kept.queue_name.as_str(), kept.metadata.unwrap().get()), ("q", r#"{"zone":"eu"}"#));
    assert_eq!(t.deregister_worker("w").unwrap(), "q");
    t.register_worker(&moved, LIMIT, T0 + 2).unwrap();
    assert_eq!(t.get_worker("w").unwrap().queue_name, "other", "once deregistered, the id is free");
}

/// At the limit a new worker replaces the longest-silent offline one, or is refused with
/// `WORKER_LIMIT` while all are live; re-registering a known worker always works.
#[test]
fn the_registry_holds_at_most_the_limit() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        t.register_worker(&worker(id), 3, T0 + i as i64).unwrap();
    }
    let err = t.register_worker(&worker("d"), 3, T0 + 10).unwrap_err();
    assert_eq!(err.kind, ErrorKind::WorkerLimit);
    assert_eq!(err.details.unwrap()["limit"], 3);
    t.register_worker(&NewWorker { hostname: "h2".into(), ..worker("a") }, 3, T0 + 11).unwrap();
    t.worker_heartbeat("a", &WorkerBeat { current_jobs: 0, status: "healthy".into(), metadata: None }, T0 + 200_000)
        .unwrap();
    t.sweep_workers(T0 + OFFLINE_AFTER_MS + 5).unwrap();
    t.register_worker(&worker("d"), 3, T0 + OFFLINE_AFTER_MS + 6).unwrap();
    let ids: Vec<String> = listed(&t, &every_worker()).0.into_iter().map(|w| w.id).collect();
    assert_eq!(ids, ["a", "c", "d"], "b, offline longest, made room");
}

/// The list pages in id order, keeps to the key's queues, and leaves metadata out.
#[test]
fn the_worker_list_pages_scopes_and_omits_metadata() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    for (id, queue) in [("w3", "x"), ("w1", "x"), ("w2", "y"), ("w4", "x")] {
        let w = NewWorker { queue_name: queue.into(), metadata: Some(r#"{"big":"data"}"#.into()), ..worker(id) };
        t.register_worker(&w, LIMIT, T0).unwrap();
    }
    let page = |queues: Option<&[&str]>, limit, offset| WorkerPage {
        queues: queues.map(|q| q.iter().map(|s| s.to_string()).collect()),
        limit,
        offset,
    };
    let ids =
        |(workers, more): (Vec<WorkerRecord>, bool)| (workers.into_iter().map(|w| w.id).collect::<Vec<_>>(), more);
    assert_eq!(ids(listed(&t, &page(None, 2, 0))), (vec!["w1".into(), "w2".into()], true));
    assert_eq!(ids(listed(&t, &page(None, 2, 2))), (vec!["w3".into(), "w4".into()], false));
    assert_eq!(ids(listed(&t, &page(Some(&["x"]), 10, 0))), (vec!["w1".into(), "w3".into(), "w4".into()], false));
    assert_eq!(ids(listed(&t, &page(Some(&[]), 10, 0))), (vec![], false));
    assert!(listed(&t, &every_worker()).0.iter().all(|w| w.metadata.is_none()));
    assert_eq!(t.get_worker("w1").unwrap().metadata.unwrap().get(), r#"{"big":"data"}"#);
}

/// A key grants no more than it has: what a new key leaves open is its grantor's, a wider
/// scope is refused on create, update and revoke, and a refused change changes nothing.
#[test]
fn keys_stay_within_their_grantors_scope() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    let limited = NewKey { rate_limit: Some(3), queues: vec!["*".into()], ..key("limited", "h1", Some(T0 + 1_000)) };
    t.insert_key(&limited, T0).unwrap();
    t.insert_key(&key("wide", "h2", None), T0).unwrap();

    let child = t.create_key(&key("child", "h3", None), by("limited"), T0).unwrap();
    assert_eq!((child.rate_limit, child.queues, child.expires_at), (Some(3), vec!["*".to_string()], Some(T0 + 1_000)));
    for wider in [NewKey { rate_limit: Some(4), ..key("c2", "h4", Some(T0 + 1)) }, key("c3", "h5", Some(T0 + 1_001))] {
        assert_eq!(t.create_key(&wider, by("limited"), T0).unwrap_err().kind, ErrorKind::AccessDenied);
    }
    let unlimit = KeyChanges { rate_limit: Some(None), ..KeyChanges::default() };
    assert_eq!(t.update_key("child", &unlimit, by("limited")).unwrap_err().kind, ErrorKind::AccessDenied);
    assert_eq!(t.get_key("child").unwrap().rate_limit, Some(3), "a refused change changes nothing");
    let rename = KeyChanges { name: Some("renamed".into()), ..KeyChanges::default() };
    assert_eq!(t.update_key("wide", &rename, by("limited")).unwrap_err().kind, ErrorKind::AccessDenied);
    assert_eq!(t.revoke_key("wide", by("limited")).unwrap_err().kind, ErrorKind::AccessDenied);
    t.revoke_key("child", by("limited")).unwrap();
    t.update_key("limited", &unlimit, by("wide")).unwrap();
    assert_eq!(t.create_key(&key("c4", "h6", None), by("gone"), T0).unwrap_err().kind, ErrorKind::Unauthorized);
}

#[test]
fn only_creating_the_organization_makes_a_tenant_exist() {
    let sql = MemorySql(rusqlite::Connection::open_in_memory().expect("open"));
    let t = Tenant { sql: &sql };
    assert!(!t.exists().unwrap(), "an empty database is no tenant");
    let creates = |command: TenantCommand| command.traits().creates_tenant;
    assert!(!creates(TenantCommand::VerifyKey { hash: "h".into() }));
    assert!(!creates(TenantCommand::RegisterQueue { queue: "q".into() }));
    let organization = NewOrganization { id: "t".into(), name: "T".into(), slug: "t".into() };
    assert!(creates(TenantCommand::CreateOrganization { organization, key: key("k1", "h1", None) }));
    t.migrate().unwrap();
    assert!(t.exists().unwrap());
}

#[test]
fn a_verified_key_carries_its_expiry() {
    let sql = tenant_db();
    let t = Tenant { sql: &sql };
    t.insert_key(&key("k1", "h1", Some(T0 + 10)), T0).unwrap();
    assert_eq!(t.verify_key("t", "h1", T0).unwrap().expires_at, Some(T0 + 10));
}
