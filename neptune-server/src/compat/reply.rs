//! The JSON of the original API's replies, built in one place: fields (the attribute listing
//! and single attributes, [`fetch`](super::fetch)) and projects and experiments
//! ([`objects`](super::objects)), with the client's names of our types and kinds.

use chrono::{DateTime, SecondsFormat, Utc};
use neptune_core::backend::{ObjectKind, SeriesInfo};
use neptune_core::{FieldType, RunState, Value as FieldValue};
use serde_json::{json, Value};

/// The client's name of a field type.
pub(super) fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Float => "float",
        FieldType::Integer => "int",
        FieldType::Boolean => "bool",
        FieldType::String => "string",
        FieldType::Datetime => "datetime",
        FieldType::FloatSeries => "floatSeries",
        FieldType::StringSeries => "stringSeries",
        FieldType::FileSeries => "imageSeries",
        FieldType::File => "file",
        FieldType::FileSet => "fileSet",
        FieldType::StringSet => "stringSet",
        FieldType::Artifact => "artifact",
        FieldType::GitRef => "gitRef",
        FieldType::RunState => "experimentState",
        _ => "unknown",
    }
}

/// The client's name of a kind of object.
pub(super) fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Run => "run",
        ObjectKind::Model => "model",
        ObjectKind::ModelVersion => "modelVersion",
        ObjectKind::Project => "project",
    }
}

fn datetime(d: &DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A single value as the client's `value`.
fn value_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Float(x) => json!(x),
        FieldValue::Integer(x) => json!(x),
        FieldValue::Boolean(x) => json!(x),
        FieldValue::String(x) | FieldValue::Artifact(x) => json!(x),
        FieldValue::Datetime(d) => json!(datetime(d)),
        FieldValue::StringSet(set) => json!(set),
        FieldValue::RunState(s) => json!(match s {
            RunState::Active => "running",
            _ => "idle",
        }),
        _ => Value::Null,
    }
}

/// The key of a field's properties in the attribute listing (`floatProperties`, …), for the
/// types whose value the listing shows.
fn props_key(t: FieldType) -> Option<&'static str> {
    Some(match t {
        FieldType::Float => "floatProperties",
        FieldType::Integer => "intProperties",
        FieldType::Boolean => "boolProperties",
        FieldType::String => "stringProperties",
        FieldType::Datetime => "datetimeProperties",
        FieldType::RunState => "experimentStateProperties",
        FieldType::StringSet => "stringSetProperties",
        FieldType::FloatSeries => "floatSeriesProperties",
        FieldType::StringSeries => "stringSeriesProperties",
        _ => return None,
    })
}

/// A field as the client reads it: `name`, `type`, and what it shows of itself: a value
/// series' `last` value (from `series`), a StringSet's `values`, another type's `value`
/// (`null` when missing).
pub(super) fn attribute(
    name: &str,
    t: FieldType,
    value: Option<&FieldValue>,
    series: Option<&SeriesInfo>,
) -> Value {
    let mut a = json!({"name": name, "type": type_name(t)});
    match t {
        FieldType::FloatSeries | FieldType::StringSeries => {
            a["last"] = series
                .and_then(|i| i.last.as_ref())
                .map_or(Value::Null, value_json);
        }
        FieldType::StringSet => a["values"] = value.map_or(Value::Null, value_json),
        _ => a["value"] = value.map_or(Value::Null, value_json),
    }
    a
}

/// A field of the attribute listing: `name` and `type`, and the properties of the types
/// whose value the listing shows ([`props_key`]).
pub(super) fn listed_attribute(
    name: &str,
    t: FieldType,
    value: Option<&FieldValue>,
    series: Option<&SeriesInfo>,
) -> Value {
    let mut a = json!({"name": name, "type": type_name(t)});
    if let Some(key) = props_key(t) {
        a[key] = attribute(name, t, value, series);
    }
    a
}

fn workspace_and_name(project: &str) -> (&str, &str) {
    project.rsplit_once('/').unwrap_or(("", project))
}

/// The workspace of a project name (`ws/name`).
pub(super) fn workspace(project: &str) -> &str {
    workspace_and_name(project).0
}

/// A project (`getProject`, `listProjects`).
pub(super) fn project(project: &str) -> Value {
    let (ws, name) = workspace_and_name(project);
    json!({
        "id": project,
        "name": name,
        "organizationName": ws,
        "organizationId": ws,
        "projectKey": name.to_uppercase(),
        "version": 2,
    })
}

/// A run, model or model version (`createExperiment`, `getExperiment`).
pub(super) fn experiment(id: &str, kind: ObjectKind, project: &str) -> Value {
    let (ws, name) = workspace_and_name(project);
    json!({
        "id": id,
        "shortId": id,
        "type": kind_name(kind),
        "organizationName": ws,
        "projectName": name,
        "projectId": project,
        "trashed": false,
    })
}

/// The project's name without its workspace, for matching a search term.
pub(super) fn project_name(project: &str) -> &str {
    workspace_and_name(project).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_and_single_attribute_show_the_same_value() {
        let v = FieldValue::Float(0.5);
        let single = attribute("params/lr", FieldType::Float, Some(&v), None);
        assert_eq!(
            single,
            json!({"name": "params/lr", "type": "float", "value": 0.5})
        );
        let listed = listed_attribute("params/lr", FieldType::Float, Some(&v), None);
        assert_eq!(listed["floatProperties"], single);
        assert_eq!(
            listed_attribute("f", FieldType::File, None, None),
            json!({"name": "f", "type": "file"})
        );
        let tags = FieldValue::StringSet(["a".to_owned()].into());
        assert_eq!(
            attribute("sys/tags", FieldType::StringSet, Some(&tags), None)["values"],
            json!(["a"])
        );
    }

    #[test]
    fn experiments_name_their_project_parts() {
        let e = experiment("P-1", ObjectKind::Run, "team/p");
        assert_eq!(e["organizationName"], "team");
        assert_eq!(e["projectName"], "p");
        assert_eq!(project("team/p")["projectKey"], "P");
        assert_eq!(workspace("team/p"), "team");
        assert_eq!(project_name("solo"), "solo");
    }
}
