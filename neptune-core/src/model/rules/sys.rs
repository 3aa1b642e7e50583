//! The system namespace `sys/`: the paths of its fields, and who may write them.
//!
//! The store creates and maintains most of them. Users may write [`USER_WRITABLE`]; the library
//! itself also writes `sys/state` (a RunState), `sys/hostname` and a model version's
//! `sys/stage`. No batch may delete any of them. On the server, a RunState lives only at
//! `sys/state`.

use crate::model::operation::Operation;
use crate::model::path::FieldPath;

/// The system namespace.
pub const NAMESPACE: &str = "sys";
/// The object's id, e.g. `NLI-1`.
pub const ID: &str = "sys/id";
/// The object's name (user-writable).
pub const NAME: &str = "sys/name";
/// The object's description (user-writable).
pub const DESCRIPTION: &str = "sys/description";
/// The object's tags, a StringSet (user-writable).
pub const TAGS: &str = "sys/tags";
/// Whether the run failed (user-writable).
pub const FAILED: &str = "sys/failed";
/// Active or Inactive, a RunState.
pub const STATE: &str = "sys/state";
/// When the object was created.
pub const CREATION_TIME: &str = "sys/creation_time";
/// When a write last changed the object.
pub const MODIFICATION_TIME: &str = "sys/modification_time";
/// The OS user that created the object.
pub const OWNER: &str = "sys/owner";
/// The id processes share one run by.
pub const CUSTOM_RUN_ID: &str = "sys/custom_run_id";
/// Whether the object is in the trash.
pub const TRASHED: &str = "sys/trashed";
/// The host the run was created on.
pub const HOSTNAME: &str = "sys/hostname";
/// A model version's model (`NLI-FOREST`).
pub const MODEL_ID: &str = "sys/model_id";
/// A model version's stage, one of [`MODEL_STAGES`].
pub const STAGE: &str = "sys/stage";

/// Every system path above, for tests and listings.
pub const ALL: [&str; 14] = [
    ID,
    NAME,
    DESCRIPTION,
    TAGS,
    FAILED,
    STATE,
    CREATION_TIME,
    MODIFICATION_TIME,
    OWNER,
    CUSTOM_RUN_ID,
    TRASHED,
    HOSTNAME,
    MODEL_ID,
    STAGE,
];

/// System fields users may write; every other `sys/` field belongs to the store.
pub const USER_WRITABLE: [&str; 4] = [NAME, DESCRIPTION, TAGS, FAILED];

/// The stage of a new model version.
pub const NEW_VERSION_STAGE: &str = "none";
/// Stages a model version may be moved to.
pub const MODEL_STAGES: [&str; 4] = [NEW_VERSION_STAGE, "staging", "production", "archived"];

/// A system path as a [`FieldPath`] (the constants above are valid paths; a unit test checks).
pub(crate) fn path(p: &'static str) -> FieldPath {
    FieldPath::system(p)
}

/// Whether `path` is `sys` or lies below it.
pub fn is_system(path: &str) -> bool {
    path.strip_prefix(NAMESPACE)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether a user may write the field at `path` (any path outside `sys/`, or a user-writable
/// system field).
pub fn user_may_write(path: &str) -> bool {
    !is_system(path) || USER_WRITABLE.contains(&path)
}

/// Why a batch may not carry `op` to a system field (`None`: the rule allows it). Checked by
/// the store on every batch, so the embedded store and the server refuse the same writes.
pub fn refusal(op: &Operation) -> Option<String> {
    let p = op.path().as_str();
    if !is_system(p) {
        return None;
    }
    let ok = match (p, op) {
        (NAME | DESCRIPTION | HOSTNAME, Operation::AssignString { .. }) => true,
        (STAGE, Operation::AssignString { value, .. }) => MODEL_STAGES.contains(&value.as_str()),
        (FAILED, Operation::AssignBool { .. }) => true,
        (STATE, Operation::AssignRunState { .. }) => true,
        (
            TAGS,
            Operation::AddStrings { .. }
            | Operation::RemoveStrings { .. }
            | Operation::ClearStringSet { .. },
        ) => true,
        _ => false,
    };
    (!ok).then(|| {
        format!(
            "\"{p}\" is a system field the store maintains; clients may write only {NAME}, \
             {DESCRIPTION}, {TAGS} and {FAILED}"
        )
    })
}

/// Why the server refuses `op` as a RunState outside `sys/state` (the client never writes one
/// elsewhere; the embedded store keeps what its own tests write).
pub fn run_state_refusal(op: &Operation) -> Option<String> {
    match op {
        Operation::AssignRunState { path, .. } if path.as_str() != STATE => {
            Some(format!("a RunState can only be written at {STATE}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::types::RunState;

    fn p(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn the_constants_are_valid_system_paths() {
        for c in ALL {
            assert_eq!(FieldPath::parse(c).unwrap(), path(c));
            assert!(is_system(c), "{c}");
        }
        assert!(is_system("sys"));
        for other in ["system", "sysx/a", "a/sys", "sy"] {
            assert!(!is_system(other), "{other}");
        }
    }

    #[test]
    fn user_writable_paths() {
        let table = [
            ("sys/name", true),
            ("sys/description", true),
            ("sys/tags", true),
            ("sys/failed", true),
            ("sys/state", false),
            ("sys/id", false),
            ("sys/hostname", false),
            ("sys/stage", false),
            ("sys", false),
            ("sys/name/x", false),
            ("system/x", true),
            ("params/lr", true),
        ];
        for (path, ok) in table {
            assert_eq!(user_may_write(path), ok, "{path}");
        }
    }

    #[test]
    fn what_a_batch_may_carry() {
        let s = |path: &str, value: &str| Operation::AssignString {
            path: p(path),
            value: value.into(),
        };
        let state = |path: &str| Operation::AssignRunState {
            path: p(path),
            value: RunState::Active,
        };
        let table = [
            (s("sys/name", "x"), true),
            (s("sys/description", ""), true),
            (s("sys/hostname", "h"), true),
            (s("sys/stage", "production"), true),
            (s("sys/stage", "x"), false),
            (s("sys/id", "X-1"), false),
            (s("sys/owner", "me"), false),
            (s("sys/failed", "yes"), false),
            (s("params/x", "x"), true),
            (
                Operation::AssignBool {
                    path: p("sys/failed"),
                    value: true,
                },
                true,
            ),
            (
                Operation::AssignBool {
                    path: p("sys/trashed"),
                    value: true,
                },
                false,
            ),
            (state("sys/state"), true),
            (state("a"), true),
            (
                Operation::AddStrings {
                    path: p("sys/tags"),
                    values: vec!["a".into()],
                },
                true,
            ),
            (
                Operation::ClearStringSet {
                    path: p("sys/tags"),
                },
                true,
            ),
            (
                Operation::DeleteAttribute {
                    path: p("sys/tags"),
                },
                false,
            ),
            (Operation::DeleteAttribute { path: p("sys") }, false),
            (Operation::DeleteAttribute { path: p("x") }, true),
            (
                Operation::CopyAttribute {
                    path: p("sys/name"),
                    source_object: "NLI-1".into(),
                    source_path: p("a"),
                },
                false,
            ),
        ];
        for (op, ok) in table {
            let r = refusal(&op);
            assert_eq!(r.is_none(), ok, "{op:?}: {r:?}");
        }
        assert!(run_state_refusal(&state("a")).is_some());
        assert!(run_state_refusal(&state("sys/state")).is_none());
        assert!(run_state_refusal(&s("a", "x")).is_none());
        let msg = refusal(&s("sys/id", "X")).unwrap();
        assert!(
            msg.contains("\"sys/id\"") && msg.contains("sys/name"),
            "{msg}"
        );
    }
}
