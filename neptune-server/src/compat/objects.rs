//! Projects and experiments (runs, models, model versions) as the client looks them up and
//! creates them, and its pings. The project is always the API token's: another name answers
//! 404 (the client then lists projects to suggest the right one).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use neptune_core::backend::{ObjectKind, OpenRequest};
use neptune_core::operation::Operation;
use neptune_core::{FieldPath, GitInfo, Writer};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer_grant;
use super::liveness;
use super::reply;
use super::{blocking, AppState, CompatError, CompatResult, St};
use crate::extract::Query;
use crate::tokens::{Grant, Scope};

#[derive(Deserialize)]
pub(super) struct ProjectQuery {
    #[serde(rename = "projectIdentifier")]
    project: String,
}

/// `getProject`.
pub(super) async fn get_project(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ProjectQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    if q.project != grant.project {
        return Err(CompatError::not_found(format!(
            "no project \"{}\" for this API token; its project is \"{}\"",
            q.project, grant.project
        )));
    }
    Ok(Json(reply::project(&grant.project)))
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "organizationIdentifier")]
    workspace: Option<String>,
    #[serde(rename = "searchTerm")]
    search: Option<String>,
}

/// `listProjects`: the token's project, when it matches.
pub(super) async fn list_projects(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let (ws, name) = (
        reply::workspace(&grant.project),
        reply::project_name(&grant.project),
    );
    let shown = q.workspace.as_deref().is_none_or(|w| w == ws)
        && q.search.as_deref().is_none_or(|t| name.contains(t));
    let entries: Vec<Value> = if shown {
        vec![reply::project(&grant.project)]
    } else {
        Vec::new()
    };
    Ok(Json(
        json!({"entries": entries, "matchingItemCount": entries.len()}),
    ))
}

/// `listOrganizations`: the token's project's workspace.
pub(super) async fn list_organizations(
    State(s): St,
    headers: HeaderMap,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let ws = reply::workspace(&grant.project);
    Ok(Json(json!([{"id": ws, "name": ws}])))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationParams {
    project_identifier: String,
    parent_id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    custom_id: Option<String>,
    key: Option<String>,
    git_info: Option<GitInfoParams>,
}

/// What the client sends of the repository it runs in (`source_code/git`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GitInfoParams {
    commit: CommitParams,
    repository_dirty: bool,
    current_branch: Option<String>,
    #[serde(default)]
    remotes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommitParams {
    commit_id: String,
    message: String,
    author_name: String,
    author_email: String,
    commit_date: String,
}

impl GitInfoParams {
    /// Our GitRef: the client says "Detached HEAD" (or nothing) where we say no branch.
    fn into_git(self) -> CompatResult<GitInfo> {
        let date = chrono::DateTime::parse_from_rfc3339(&self.commit.commit_date)
            .map_err(|e| {
                CompatError::bad_request(format!(
                    "gitInfo.commit.commitDate {:?} is not an RFC 3339 date-time: {e}",
                    self.commit.commit_date
                ))
            })?
            .with_timezone(&chrono::Utc);
        Ok(GitInfo {
            commit_id: self.commit.commit_id,
            message: self.commit.message,
            author_name: self.commit.author_name,
            author_email: self.commit.author_email,
            commit_date: date,
            branch: self
                .current_branch
                .filter(|b| !b.is_empty() && b != "Detached HEAD"),
            dirty: self.repository_dirty,
            remotes: self.remotes,
        })
    }
}

/// `createExperiment`: creates a run, model or model version (a run with a `customId` that
/// exists is resumed); the `gitInfo` the client sends becomes `source_code/git`, a GitRef.
pub(super) async fn create_experiment(
    State(s): St,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let p: CreationParams = crate::api::parse_json(&body)?;
    if p.project_identifier != grant.project {
        return Err(CompatError::not_found(format!(
            "no project \"{}\" for this API token; its project is \"{}\"",
            p.project_identifier, grant.project
        )));
    }
    let kind = match p.kind.as_str() {
        "run" => ObjectKind::Run,
        "model" => ObjectKind::Model,
        "modelVersion" => ObjectKind::ModelVersion,
        other => {
            return Err(CompatError::bad_request(format!(
                "cannot create an object of type {other:?}; use run, model or modelVersion"
            )))
        }
    };
    let git = match (kind, p.git_info) {
        (ObjectKind::Run, Some(g)) => Some(g.into_git()?),
        _ => None,
    };
    let model = match kind {
        ObjectKind::Model => p.key.filter(|k| !k.is_empty()),
        ObjectKind::ModelVersion => p.parent_id,
        _ => None,
    };
    blocking(move || {
        if let (ObjectKind::ModelVersion, Some(m)) = (kind, &model) {
            check_object(&s, &grant, m)?;
        }
        let info = s.store.open_object(&OpenRequest {
            kind,
            project: grant.project.clone(),
            with_id: None,
            custom_run_id: p.custom_id.filter(|c| !c.is_empty()),
            model,
            owner: liveness::OWNER.into(),
            read_only: false,
        })?;
        if let Some(git) = git {
            write_git(&s, &grant, &info.id, git)?;
        }
        liveness::global().created(&s, &info.id);
        Ok(Json(reply::experiment(&info.id, info.kind, &info.project)))
    })
    .await
}

/// Writes `source_code/git` through the server's screen and the store, as any write; a
/// refusal fails the creation with its reason.
fn write_git(s: &AppState, grant: &Grant, id: &str, git: GitInfo) -> CompatResult<()> {
    let op = Operation::AssignGitRef {
        path: FieldPath::parse("source_code/git")?,
        value: Box::new(git),
    };
    let screened = crate::screen::screen(&s.store, grant, vec![op])?;
    let mut refused: Vec<String> = screened.refused.into_iter().map(|r| r.reason).collect();
    refused.extend(
        s.store
            .execute(id, &screened.ops)?
            .into_iter()
            .map(|r| r.reason),
    );
    match refused.is_empty() {
        true => Ok(()),
        false => Err(CompatError::bad_request(format!(
            "source_code/git of {id} was refused: {}",
            refused.join("; ")
        ))),
    }
}

/// The object `id` names (`ID`, `workspace/project/ID`, or the project's name for the project
/// itself) in the token's project, with its kind.
pub(super) fn check_object(
    s: &super::AppState,
    grant: &Grant,
    id: &str,
) -> CompatResult<(String, ObjectKind)> {
    // The project itself (`init_project`): `getProject` answers its name as its id.
    if id == grant.project {
        let info = s.store.open_object(&OpenRequest {
            kind: ObjectKind::Project,
            project: grant.project.clone(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: liveness::OWNER.into(),
            read_only: grant.scope != Scope::Write,
        })?;
        return Ok((info.id, ObjectKind::Project));
    }
    let short = match id.rsplit_once('/') {
        Some((project, short)) if project == grant.project => short,
        Some(_) => "",
        None => id,
    };
    match s.store.object_project(short)? {
        Some((kind, project)) if project == grant.project => Ok((short.to_owned(), kind)),
        _ => Err(CompatError::new(
            axum::http::StatusCode::NOT_FOUND,
            "EXPERIMENT_NOT_FOUND",
            format!(
                "no object \"{id}\" in project \"{}\" of the API token",
                grant.project
            ),
        )),
    }
}

#[derive(Deserialize)]
pub(super) struct IdQuery {
    #[serde(rename = "experimentId")]
    pub(super) id: String,
}

/// `getExperiment`.
pub(super) async fn get_experiment(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    blocking(move || {
        let (id, kind) = check_object(&s, &grant, &q.id)?;
        Ok(Json(reply::experiment(&id, kind, &grant.project)))
    })
    .await
}

/// `ping`: the object must exist (the client stops on a 404); it stays Active while its
/// pings come ([`liveness`]).
pub(super) async fn ping(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        liveness::global().pinged(&s, &id);
        Ok(Json(json!({})))
    })
    .await
}
