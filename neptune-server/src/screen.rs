//! What the server checks before the store applies a batch, on top of the store's own checks
//! (types, paths, steps, sizes, and the system fields of `neptune_core::rules::sys`): the rules
//! of a server shared by projects, which a well-behaved client keeps and a hostile one might
//! not. An operation that breaks one is refused on its own, with the reason; the rest of the
//! batch is applied.
//!
//! - A RunState lives only at `sys/state`.
//! - File content an operation names must have been uploaded through the token's project, or
//!   be referred to by a field of that project already: content another project uploaded is
//!   refused (with the same reason as content that does not exist), even when its digest is
//!   known.
//! - A copy may only read an object of the token's project.

use std::collections::HashMap;

use neptune_core::backend::Rejected;
use neptune_core::operation::{FileRef, Operation};
use neptune_core::rules::sys;
use neptune_core::store::Store;

use crate::error::ApiResult;
use crate::tokens::Grant;

/// A batch after screening.
pub struct Screened {
    /// The operations that passed, in order.
    pub ops: Vec<Operation>,
    /// Index in the batch as sent of each kept operation.
    pub index: Vec<usize>,
    /// The operations refused, with the reason for each.
    pub refused: Vec<Rejected>,
}

fn file_refs(op: &Operation) -> Vec<&FileRef> {
    match op {
        Operation::UploadFile { file, .. } => vec![file],
        Operation::UploadFileSet { files, .. } => files.iter().map(|f| &f.file).collect(),
        Operation::LogImages { points, .. } => points.iter().map(|p| &p.file).collect(),
        _ => Vec::new(),
    }
}

/// For each digest the operations name, whether the token's project may refer to it (looked up
/// in one read of the store). A malformed digest counts as held: the store's own check refuses
/// it with the reason.
fn held_files(store: &Store, grant: &Grant, ops: &[Operation]) -> ApiResult<HashMap<String, bool>> {
    let mut have = HashMap::new();
    let mut asked = Vec::new();
    for f in ops.iter().flat_map(file_refs) {
        if !have.contains_key(&f.digest) {
            let malformed = crate::files::check_digest(&f.digest).is_err();
            have.insert(f.digest.clone(), malformed);
            if !malformed {
                asked.push(f.digest.as_str());
            }
        }
    }
    if !asked.is_empty() {
        for (d, held) in asked
            .iter()
            .zip(store.project_has_files(&grant.project, &asked)?)
        {
            have.insert((*d).to_owned(), held);
        }
    }
    Ok(have)
}

/// Sorts a batch's operations into kept and refused.
pub fn screen(store: &Store, grant: &Grant, ops: Vec<Operation>) -> ApiResult<Screened> {
    let mut out = Screened {
        ops: Vec::with_capacity(ops.len()),
        index: Vec::with_capacity(ops.len()),
        refused: Vec::new(),
    };
    let have = held_files(store, grant, &ops)?;
    for (i, op) in ops.into_iter().enumerate() {
        let mut reason = sys::run_state_refusal(&op);
        if reason.is_none() {
            for f in file_refs(&op) {
                if !have.get(f.digest.as_str()).copied().unwrap_or(false) {
                    reason = Some(format!(
                        "file content {} was not uploaded to project \"{}\"; upload it (PUT \
                         /api/v1/files) with a token of this project first",
                        f.digest, grant.project
                    ));
                    break;
                }
            }
        }
        if let (None, Operation::CopyAttribute { source_object, .. }) = (&reason, &op) {
            match store.object_project(source_object)? {
                Some((_, project)) if project == grant.project => {}
                _ => {
                    reason = Some(format!(
                        "cannot copy from \"{source_object}\": no such object in project \"{}\"",
                        grant.project
                    ))
                }
            }
        }
        match reason {
            Some(reason) => out.refused.push(Rejected {
                index: i,
                path: op.path().to_string(),
                reason,
            }),
            None => {
                out.ops.push(op);
                out.index.push(i);
            }
        }
    }
    Ok(out)
}
