//! The names of the object kinds: one for messages and storage, one on the wire.

use crate::backend::ObjectKind;

impl ObjectKind {
    /// The four kinds.
    pub const ALL: [ObjectKind; 4] = [
        ObjectKind::Run,
        ObjectKind::Model,
        ObjectKind::ModelVersion,
        ObjectKind::Project,
    ];

    /// Lowercase name for messages and storage: "run", "model", "model version", "project".
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Run => "run",
            ObjectKind::Model => "model",
            ObjectKind::ModelVersion => "model version",
            ObjectKind::Project => "project",
        }
    }

    /// The name in URLs and JSON of the HTTP API: as [`ObjectKind::name`] with `-` for the
    /// space ("model-version").
    pub fn wire_name(self) -> &'static str {
        match self {
            ObjectKind::ModelVersion => "model-version",
            other => other.name(),
        }
    }

    /// Parses a name given by [`ObjectKind::name`].
    pub fn from_name(s: &str) -> Option<ObjectKind> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Parses a name given by [`ObjectKind::wire_name`].
    pub fn from_wire_name(s: &str) -> Option<ObjectKind> {
        Self::ALL.into_iter().find(|k| k.wire_name() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        let table = [
            (ObjectKind::Run, "run", "run"),
            (ObjectKind::Model, "model", "model"),
            (ObjectKind::ModelVersion, "model version", "model-version"),
            (ObjectKind::Project, "project", "project"),
        ];
        for (kind, name, wire) in table {
            assert_eq!(kind.name(), name);
            assert_eq!(kind.wire_name(), wire);
            assert_eq!(kind.to_string(), name);
            assert_eq!(ObjectKind::from_name(name), Some(kind));
            assert_eq!(ObjectKind::from_wire_name(wire), Some(kind));
        }
        assert_eq!(ObjectKind::from_name("model-version"), None);
        assert_eq!(ObjectKind::from_wire_name("model version"), None);
        assert_eq!(ObjectKind::from_name("Run"), None);
    }
}
