//! `GET /ui/zip/{id}?path=P`: a FileSet of a run as one zip archive, streamed as it is made
//! (a blocking task writes the archive into a bounded channel that the response body reads),
//! so a big FileSet costs the server a few buffers, not its size.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use neptune_core::{FieldPath, FieldType, Reader};
use serde::Deserialize;

use super::auth::Viewer;
use super::layout::{blocking, UiError};
use super::Ui;

#[derive(Deserialize)]
struct ZipQ {
    path: String,
}

pub async fn fileset(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let q: ZipQ = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query: {e}")))?;
    let store = st.store.clone();
    let set_path = q.path.clone();
    let entries = blocking(move || {
        viewer.object_project(&st, &id)?;
        let path = FieldPath::parse(&q.path)?;
        let is_set = st
            .store
            .fetch_structure(&id)?
            .iter()
            .any(|(p, t)| *p == path && *t == FieldType::FileSet);
        if !is_set {
            return Err(UiError::new(
                StatusCode::NOT_FOUND,
                format!("no FileSet at \"{}\" of {id}", q.path),
            ));
        }
        Ok(st.store.fileset_entries(&id, &path)?)
    })
    .await?;
    Ok(crate::zip_body::fileset_zip(
        neptune_core::Backend::of(store),
        entries,
        &set_path,
    ))
}
