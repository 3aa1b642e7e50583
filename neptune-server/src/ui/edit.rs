//! `POST /run/{id}/edit`: a write session changes a run's name, description and tags.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use neptune_core::operation::Operation;
use neptune_core::{FieldPath, Reader, Value, Writer};

use super::auth::{same_origin, Viewer};
use super::layout::{blocking, UiError};
use super::runs::split_list;
use super::Ui;

#[derive(serde::Deserialize)]
struct EditForm {
    name: String,
    description: String,
    tags: String,
}

pub async fn edit(
    State(st): Ui,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    same_origin(&headers)?;
    if !viewer.write {
        return Err(UiError::new(
            StatusCode::FORBIDDEN,
            "your session has read scope: editing a run needs a write token (sign in again with one)",
        ));
    }
    let form: EditForm = serde_urlencoded::from_bytes(&body)
        .map_err(|e| UiError::bad_request(format!("invalid form: {e}")))?;
    let target = id.clone();
    blocking(move || {
        viewer.object_project(&st, &target)?;
        let tags_path = FieldPath::parse("sys/tags")?;
        let old: Vec<String> = match st.store.fetch_value(&target, &tags_path)? {
            Some(Value::StringSet(s)) => s.into_iter().collect(),
            _ => Vec::new(),
        };
        let new = split_list(&form.tags);
        let remove: Vec<String> = old.iter().filter(|t| !new.contains(t)).cloned().collect();
        let add: Vec<String> = new.iter().filter(|t| !old.contains(t)).cloned().collect();
        let mut ops = vec![
            Operation::AssignString {
                path: FieldPath::parse("sys/name")?,
                value: form.name,
            },
            Operation::AssignString {
                path: FieldPath::parse("sys/description")?,
                value: form.description,
            },
        ];
        if !remove.is_empty() {
            ops.push(Operation::RemoveStrings {
                path: tags_path.clone(),
                values: remove,
            });
        }
        if !add.is_empty() {
            ops.push(Operation::AddStrings {
                path: tags_path,
                values: add,
            });
        }
        let rejected = st.store.execute(&target, &ops)?;
        if let Some(r) = rejected.first() {
            return Err(UiError::bad_request(format!("the edit was refused: {r:?}")));
        }
        st.store.sync_to_disk()?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/run/{id}")).into_response())
}
