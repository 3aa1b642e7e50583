//! Projects, their keys and the ids of the objects in them.

use super::sql::Value as Sql;
use super::sql::{params, Optional, Tx};

use super::fields::{self, ensure, find_object, Obj};
use super::{Fail, R};
use crate::backend::{ObjectInfo, ObjectKind, OpenRequest};
use crate::error::Error;
use crate::model::rules::clock::now_ms;
use crate::model::rules::sys;
use crate::model::types::{FieldType, RunState};

/// A project row.
struct Project {
    id: i64,
    key: String,
}

/// The short key of a project name, before making it unique: `"ml-team/nli"` → `"NLI"`,
/// `"local/sandbox"` → `"SAN"`, `"my-project"` → `"MP"`.
pub(crate) fn project_key(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    let words: Vec<&str> = last
        .split(['-', '_', ' ', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    let first3 = || -> String {
        last.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(3)
            .collect::<String>()
            .to_ascii_uppercase()
    };
    let key = if words.len() > 1 {
        let initials: String = words
            .iter()
            .filter_map(|w| w.chars().find(char::is_ascii_alphanumeric))
            .collect::<String>()
            .to_ascii_uppercase();
        if initials.chars().filter(char::is_ascii_alphabetic).count() >= 2 {
            initials
        } else {
            first3()
        }
    } else {
        first3()
    };
    if key.is_empty() {
        "PRJ".to_owned()
    } else {
        key
    }
}

fn find_project(c: &Tx<'_>, name: &str) -> R<Option<Project>> {
    c.prepare_cached("SELECT id, key FROM projects WHERE name = ?1")?
        .query_row([name], |r| {
            Ok(Project {
                id: r.get(0)?,
                key: r.get(1)?,
            })
        })
        .optional()
}

/// The project named `name`, created (with a unique key) when missing.
fn project(c: &Tx<'_>, name: &str) -> R<Project> {
    if let Some(p) = find_project(c, name)? {
        return Ok(p);
    }
    let base = project_key(name);
    let mut key = base.clone();
    let mut n = 2u64;
    loop {
        let taken = c
            .prepare_cached("SELECT 1 FROM projects WHERE key = ?1")?
            .query_row([&key], |_| Ok(()))
            .optional()?
            .is_some();
        if !taken {
            break;
        }
        key = format!("{base}{n}");
        n += 1;
    }
    let id = c
        .prepare_cached(
            "INSERT INTO projects (name, key, created_ms) VALUES (?1, ?2, ?3) RETURNING id",
        )?
        .query_row(params![name, key, now_ms()], |r| r.get(0))?;
    Ok(Project { id, key })
}

fn config(msg: impl Into<String>) -> Fail {
    Fail::Core(Error::Config(msg.into()))
}

fn not_found(kind: ObjectKind, id: &str, project: &str) -> Fail {
    Fail::Core(Error::ObjectNotFound {
        kind: kind.name(),
        id: id.to_owned(),
        location: format!("project \"{project}\""),
    })
}

/// Checks a model key: uppercase ASCII letters and digits, not digits only (which would read as
/// a run number).
fn check_model_key(key: &str) -> R<()> {
    let ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && key.bytes().any(|b| b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(config(format!(
            "model key {key:?} must be uppercase ASCII letters and digits, with at least one letter \
             (e.g. \"FOREST\")"
        )))
    }
}

/// Writes a system field: of a new object, or one the store maintains.
fn put(c: &Tx<'_>, obj: i64, path: &'static str, t: FieldType, value: Sql) -> R<()> {
    let path = sys::path(path);
    match ensure(c, obj, &path, t, "create")? {
        Ok(id) => fields::set_value(c, id, value),
        Err(e) => Err(Fail::Core(e)),
    }
}

impl super::Store {
    /// Moves an object to the trash or out of it (`sys/trashed`, which no batch may write:
    /// trashing is the store's own action). Tables leave trashed objects out unless asked.
    pub fn set_trashed(&self, object: &str, trashed: bool) -> crate::error::Result<()> {
        self.write(|c| {
            let obj = fields::object(c, object)?;
            put(
                c,
                obj.id,
                sys::TRASHED,
                FieldType::Boolean,
                Sql::Int(trashed.into()),
            )
        })
    }
}

/// Sets `sys/state` to Active on a resumed or joined object (left alone if a user turned the
/// path into something else).
fn activate(c: &Tx<'_>, obj: i64) -> R<()> {
    let path = sys::path(sys::STATE);
    if let Ok(id) = ensure(c, obj, &path, FieldType::RunState, "resume")? {
        fields::set_value(c, id, Sql::Text(RunState::Active.as_str().to_owned()))?;
    }
    Ok(())
}

struct NewObject<'a> {
    sys_id: String,
    kind: ObjectKind,
    project_id: i64,
    custom_run_id: Option<&'a str>,
    parent: Option<(i64, &'a str)>,
    owner: &'a str,
}

fn create(c: &Tx<'_>, o: NewObject<'_>) -> R<i64> {
    let now = now_ms();
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO objects (sys_id, kind, project_id, custom_run_id, parent_id, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )?
        .query_row(
            params![
                o.sys_id,
                o.kind.name(),
                o.project_id,
                o.custom_run_id,
                o.parent.map(|p| p.0),
                now
            ],
            |r| r.get(0),
        )?;
    let text = |s: &str| Sql::Text(s.to_owned());
    put(c, id, sys::ID, FieldType::String, text(&o.sys_id))?;
    put(
        c,
        id,
        sys::CREATION_TIME,
        FieldType::Datetime,
        Sql::Int(now),
    )?;
    put(
        c,
        id,
        sys::MODIFICATION_TIME,
        FieldType::Datetime,
        Sql::Int(now),
    )?;
    put(
        c,
        id,
        sys::STATE,
        FieldType::RunState,
        text(RunState::Active.as_str()),
    )?;
    put(c, id, sys::OWNER, FieldType::String, text(o.owner))?;
    if let Some(cr) = o.custom_run_id {
        put(c, id, sys::CUSTOM_RUN_ID, FieldType::String, text(cr))?;
    }
    put(c, id, sys::TRASHED, FieldType::Boolean, Sql::Int(0))?;
    if let Some((_, model_id)) = o.parent {
        put(c, id, sys::MODEL_ID, FieldType::String, text(model_id))?;
        put(
            c,
            id,
            sys::STAGE,
            FieldType::String,
            text(sys::NEW_VERSION_STAGE),
        )?;
    }
    Ok(id)
}

fn info(c: &Tx<'_>, obj: &Obj, project: &str, created: bool) -> R<ObjectInfo> {
    Ok(ObjectInfo {
        id: obj.sys_id.clone(),
        kind: obj.kind,
        project: project.to_owned(),
        created,
        fields: super::fetch::structure_of(c, obj.id)?,
    })
}

/// Opens an object as `req` asks (see [`crate::Writer::open_object`]).
pub(crate) fn open_object(c: &Tx<'_>, req: &OpenRequest) -> R<ObjectInfo> {
    let name = req.project.as_str();
    if name.trim().is_empty() {
        return Err(config(
            "the project name is empty; give one such as \"ml-team/nli\"",
        ));
    }
    if req.with_id.is_some() && req.custom_run_id.is_some() {
        return Err(config("with_id and custom_run_id cannot be used together"));
    }
    if req.custom_run_id.is_some() && req.kind != ObjectKind::Run {
        return Err(config("custom_run_id applies to runs only"));
    }

    if let Some(id) = &req.with_id {
        // Ids are unique in the whole store: the id alone finds the object, whatever project
        // the request names.
        let obj = match find_object(c, id)? {
            Some(o) if o.kind == req.kind => o,
            _ => return Err(not_found(req.kind, id, name)),
        };
        let project: String = c
            .prepare_cached("SELECT name FROM projects WHERE id = ?1")?
            .query_row(params![obj.project_id], |r| r.get(0))?;
        if !req.read_only {
            activate(c, obj.id)?;
        }
        return info(c, &obj, &project, false);
    }

    let proj = project(c, name)?;
    let resume = |sys_id: &str| -> R<Option<ObjectInfo>> {
        match find_object(c, sys_id)? {
            Some(obj) if obj.kind == req.kind && obj.project_id == proj.id => {
                activate(c, obj.id)?;
                Ok(Some(info(c, &obj, name, false)?))
            }
            Some(_) => Err(Fail::Core(Error::Corrupt(format!(
                "{sys_id} is not a {} of project \"{name}\"",
                req.kind
            )))),
            None => Ok(None),
        }
    };
    let new =
        |sys_id: String, custom: Option<&str>, parent: Option<(i64, &str)>| -> R<ObjectInfo> {
            let id = create(
                c,
                NewObject {
                    sys_id: sys_id.clone(),
                    kind: req.kind,
                    project_id: proj.id,
                    custom_run_id: custom,
                    parent,
                    owner: &req.owner,
                },
            )?;
            let obj = Obj {
                id,
                sys_id,
                kind: req.kind,
                project_id: proj.id,
            };
            info(c, &obj, name, true)
        };

    match req.kind {
        ObjectKind::Run => {
            if let Some(cr) = req.custom_run_id.as_deref() {
                if cr.is_empty() {
                    return Err(config("custom_run_id is empty"));
                }
                let existing: Option<String> = c
                    .prepare_cached(
                        "SELECT sys_id FROM objects WHERE project_id = ?1 AND custom_run_id = ?2",
                    )?
                    .query_row(params![proj.id, cr], |r| r.get(0))
                    .optional()?;
                if let Some(sys_id) = existing {
                    if let Some(i) = resume(&sys_id)? {
                        return Ok(i);
                    }
                }
            }
            let n: i64 = c
                .prepare_cached(
                    "UPDATE projects SET next_run = next_run + 1 WHERE id = ?1 RETURNING next_run - 1",
                )?
                .query_row([proj.id], |r| r.get(0))?;
            new(
                format!("{}-{n}", proj.key),
                req.custom_run_id.as_deref(),
                None,
            )
        }
        ObjectKind::Model => {
            let key = req
                .model
                .as_deref()
                .ok_or_else(|| config("a new model needs a model key (e.g. \"FOREST\")"))?;
            check_model_key(key)?;
            let sys_id = format!("{}-{key}", proj.key);
            if find_object(c, &sys_id)?.is_some() {
                return Err(config(format!(
                    "model {sys_id} already exists; open it with with_id(\"{sys_id}\")"
                )));
            }
            new(sys_id, None, None)
        }
        ObjectKind::ModelVersion => {
            let model_id = req.model.as_deref().ok_or_else(|| {
                config("a new model version needs the id of its model (e.g. \"NLI-FOREST\")")
            })?;
            let model = match find_object(c, model_id)? {
                Some(m) if m.kind == ObjectKind::Model && m.project_id == proj.id => m,
                _ => return Err(not_found(ObjectKind::Model, model_id, name)),
            };
            let n: i64 = c
                .prepare_cached(
                    "UPDATE objects SET next_version = next_version + 1 WHERE id = ?1 \
                     RETURNING next_version - 1",
                )?
                .query_row([model.id], |r| r.get(0))?;
            new(format!("{model_id}-{n}"), None, Some((model.id, model_id)))
        }
        ObjectKind::Project => {
            if let Some(i) = resume(&proj.key)? {
                return Ok(i);
            }
            new(proj.key.clone(), None, None)
        }
    }
}

/// Ids of the objects of `kind` in `project`, oldest first.
pub(crate) fn list_objects(c: &Tx<'_>, project: &str, kind: ObjectKind) -> R<Vec<String>> {
    let Some(p) = find_project(c, project)? else {
        return Ok(Vec::new());
    };
    let ids = c
        .prepare_cached(
            "SELECT sys_id FROM objects WHERE project_id = ?1 AND kind = ?2 ORDER BY id",
        )?
        .query_map(params![p.id, kind.name()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Every project of the store, by name, with its run count and last activity.
pub(crate) fn list_projects(c: &Tx<'_>) -> R<Vec<super::ProjectSummary>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.name, p.key, p.created_ms,
                (SELECT COUNT(*) FROM objects o WHERE o.project_id = p.id AND o.kind = ?1),
                (SELECT f.value FROM objects o JOIN fields f ON f.object_id = o.id
                  WHERE o.project_id = p.id AND f.path = ?2
                    AND f.type = 'Datetime' AND f.value IS NOT NULL
                  ORDER BY f.value DESC LIMIT 1),
                (SELECT MAX(o.created_ms) FROM objects o WHERE o.project_id = p.id)
           FROM projects p ORDER BY p.name",
    )?;
    let rows = stmt
        .query_map(
            params![ObjectKind::Run.name(), sys::MODIFICATION_TIME],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(name, key, created, runs, modified, newest)| {
            let last = modified.max(newest).unwrap_or(created).max(created);
            Ok(super::ProjectSummary {
                name,
                key,
                runs: u64::try_from(runs).unwrap_or(0),
                created: fields::datetime(created)?,
                last_activity: fields::datetime(last)?,
            })
        })
        .collect()
}
