//! docs/ARCHITECTURE.md shows the job state machine as a table; this keeps it true to the rules
//! in `queue::transition`, row for row.

use edgespool::model::{EventKind, JobStatus};
use edgespool::queue::transition::Transition;

/// The names between backticks in a table cell.
fn names(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn the_documented_state_machine_is_the_one_in_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ARCHITECTURE.md")).unwrap();
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .skip_while(|l| !l.starts_with("| transition |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), Transition::ALL.len(), "one row per transition");
    for (row, transition) in rows.iter().zip(Transition::ALL) {
        let rule = transition.rule();
        assert_eq!(names(row[0]), [format!("{transition:?}").as_str()], "rows in Transition::ALL order");
        let from: Vec<JobStatus> = names(row[1]).iter().map(|n| JobStatus::parse(n).unwrap()).collect();
        assert_eq!(from, rule.from, "{transition:?}: from-states");
        let to = names(row[2]).first().map(|n| JobStatus::parse(n).unwrap());
        assert_eq!(to, rule.to, "{transition:?}: to-state");
        let events: Vec<EventKind> = names(row[3]).iter().map(|n| EventKind::parse(n).unwrap()).collect();
        assert_eq!(events, rule.events, "{transition:?}: events");
    }
}
