//! Where the data comes from: a [`Backend`] (the embedded store, or a team server through
//! `NEPTUNE_URL`), and the lookups every command shares.

use std::path::Path;
use std::sync::Arc;

use neptune_core::backend::SeriesPage;
use neptune_core::store::Store;
use neptune_core::{
    Backend, Error, FieldPath, FieldType, Mode, Model, ModelVersion, Object, Project, Run, Writer,
};

use crate::{exit, CliResult};

/// Points fetched per backend call.
const PAGE: usize = 1 << 20;

/// An opened backend and where it is, for messages.
pub(crate) struct Source {
    pub backend: Backend,
    pub location: String,
    /// The embedded store, when that is the backend (it can list its projects).
    pub store: Option<Arc<Store>>,
}

impl Source {
    /// A team server when `NEPTUNE_URL` is set (with `NEPTUNE_API_TOKEN`), else the embedded
    /// store in `home`, which must exist (reading never creates one).
    pub(crate) fn open(home: &Path) -> CliResult<Source> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if let Some(url) = env("NEPTUNE_URL") {
            let token = env("NEPTUNE_API_TOKEN").ok_or_else(|| {
                exit::invalid(format!(
                    "NEPTUNE_URL is set ({url}) but NEPTUNE_API_TOKEN is not; create a token \
                     with `neptune-server token create --project PROJECT --scope read`, or \
                     unset NEPTUNE_URL to read {}",
                    home.display()
                ))
            })?;
            let http = neptune_core::backend::http::HttpBackend::new(&url, &token)?;
            return Ok(Source {
                location: format!("the server at {url}"),
                backend: Backend::of(Arc::new(http)),
                store: None,
            });
        }
        if !home.join("store.db").is_file() {
            return Err(exit::not_found(format!(
                "no store at {} (log a run first, or give --home DIR or NEPTUNE_HOME)",
                home.display()
            )));
        }
        let store = Arc::new(Store::open(home)?);
        Ok(Source {
            location: store.location(),
            backend: Backend::of(store.clone()),
            store: Some(store),
        })
    }

    /// The project a command reads: the one given (`--project` or `NEPTUNE_PROJECT`); else
    /// the store's only project; else `local/sandbox`.
    pub(crate) fn project(&self, given: Option<String>) -> CliResult<String> {
        if let Some(p) = given.filter(|p| !p.trim().is_empty()) {
            return Ok(p);
        }
        let Some(store) = &self.store else {
            return Ok(neptune_core::DEFAULT_PROJECT.to_owned());
        };
        let projects = store.projects()?;
        Ok(match projects.as_slice() {
            [only] => only.name.clone(),
            _ => neptune_core::DEFAULT_PROJECT.to_owned(),
        })
    }

    /// The message for a project that is not there, naming the projects that are.
    pub(crate) fn no_project(&self, project: &str) -> Box<dyn std::error::Error> {
        let names: Vec<String> = self
            .store
            .as_ref()
            .and_then(|s| s.projects().ok())
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.name)
            .collect();
        let hint = if names.is_empty() {
            "give --project NAME or NEPTUNE_PROJECT".to_owned()
        } else {
            format!(
                "it holds {}; give --project NAME or NEPTUNE_PROJECT (see `neptune projects`)",
                names.join(", ")
            )
        };
        exit::not_found(format!(
            "no project \"{project}\" in the store at {} ({hint})",
            self.location
        ))
    }

    /// The message for an object that is not there.
    fn no_object(&self, id: &str) -> Box<dyn std::error::Error> {
        exit::not_found(format!(
            "no run, model or model version with id \"{id}\" in the store at {} \
             (list the runs with `neptune runs --project NAME`)",
            self.location
        ))
    }

    /// Maps the backend's not-found error to one that names the id and the store.
    pub(crate) fn check<T>(&self, id: &str, r: neptune_core::Result<T>) -> CliResult<T> {
        match r {
            Err(Error::ObjectNotFound { .. }) => Err(self.no_object(id)),
            other => Ok(other?),
        }
    }

    /// Every field of an object, sorted by path.
    pub(crate) fn structure(&self, id: &str) -> CliResult<Vec<(FieldPath, FieldType)>> {
        self.check(id, self.backend.reader().fetch_structure(id))
    }

    /// The type of the field at `path`; an error naming the object and the path when missing.
    pub(crate) fn field_type(&self, id: &str, path: &FieldPath) -> CliResult<FieldType> {
        let fields = self.structure(id)?;
        fields
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .ok_or_else(|| missing(id, path.as_str(), &fields))
    }

    /// Every point of a FloatSeries, fetched in pages.
    pub(crate) fn float_points(&self, id: &str, path: &FieldPath) -> CliResult<SeriesPage<f64>> {
        let mut all = SeriesPage::default();
        // Room for every point at once: no copy as pages arrive.
        if let Some(info) = self.backend.reader().fetch_series_info(id, path)? {
            let n = usize::try_from(info.count).unwrap_or(0).min(1 << 31);
            all.steps.reserve_exact(n);
            all.values.reserve_exact(n);
            all.timestamps.reserve_exact(n);
        }
        loop {
            let after = all.steps.last().copied();
            let page = self
                .backend
                .reader()
                .fetch_float_points(id, path, after, PAGE)?;
            let n = page.len();
            all.append(page);
            if n < PAGE {
                return Ok(all);
            }
        }
    }

    /// Every entry of a StringSeries, fetched in pages.
    pub(crate) fn string_points(
        &self,
        id: &str,
        path: &FieldPath,
    ) -> CliResult<SeriesPage<String>> {
        let mut all = SeriesPage::default();
        loop {
            let after = all.steps.last().copied();
            let page = self
                .backend
                .reader()
                .fetch_string_points(id, path, after, PAGE)?;
            let n = page.len();
            all.append(page);
            if n < PAGE {
                return Ok(all);
            }
        }
    }

    /// The object, opened read-only through the library (for its file handles).
    pub(crate) fn object(&self, id: &str) -> CliResult<Object> {
        macro_rules! attempt {
            ($t:ty) => {
                match <$t>::builder()
                    .backend(self.backend.clone())
                    .with_id(id)
                    .mode(Mode::ReadOnly)
                    .open()
                {
                    Ok(o) => return Ok(Object::clone(&o)),
                    Err(Error::ObjectNotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            };
        }
        attempt!(Run);
        attempt!(Model);
        attempt!(ModelVersion);
        attempt!(Project);
        Err(self.no_object(id))
    }
}

/// "NLI-3 has no field "x"", with the closest paths as a hint.
pub(crate) fn missing(
    id: &str,
    path: &str,
    fields: &[(FieldPath, FieldType)],
) -> Box<dyn std::error::Error> {
    let below = format!("{path}/");
    if fields.iter().any(|(p, _)| p.as_str().starts_with(&below)) {
        return exit::invalid(format!("\"{path}\" of {id} is a namespace, not a field"));
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let similar: Vec<&str> = fields
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| {
            p.rsplit('/').next() == Some(name)
                || p.starts_with(path.split('/').next().unwrap_or(""))
        })
        .take(5)
        .collect();
    let hint = if similar.is_empty() {
        format!(" (see its fields with `neptune show {id}`)")
    } else {
        format!("; it has {}", similar.join(", "))
    };
    exit::not_found(format!("{id} has no field \"{path}\"{hint}"))
}

/// Parses a path given on the command line.
pub(crate) fn path(p: &str) -> CliResult<FieldPath> {
    Ok(FieldPath::parse(p.trim_matches('/'))?)
}
