//! Runs, models, model versions and projects, and their builders.

pub(crate) mod inner;
pub(crate) mod unblock;

use std::marker::PhantomData;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::{Backend, MemoryBackend, ObjectKind, OpenRequest};
use crate::config::{self, Mode};
use crate::error::{Error, Result};
use crate::handles::handler::Handler;
use crate::handles::typed::StringSetHandle;
use crate::model::operation::Operation;
use crate::model::rules::{sys, MODEL_STAGES};
use crate::model::structure::Structure;
use crate::model::types::Value;
use crate::objects::inner::ObjectInner;
use crate::objects::unblock::{unblock, Unblock};
use crate::store::Store;

/// Values the queue holds before writers wait for the worker (bounds client memory).
const DEFAULT_QUEUE_CAPACITY: usize = 1_000_000;
/// Longest custom run id.
const MAX_CUSTOM_RUN_ID: usize = 36;

/// What runs, models, model versions and projects have in common: fields, and the
/// reference's `exists`, `get_structure`, `print_structure`, `pop`, `wait`, `sync`, `stop`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).name("baseline").open()?;
/// run.field("params/lr").assign(0.01)?;
/// run.wait()?;
/// assert_eq!(run.field("sys/name").fetch()?.as_str(), Some("baseline"));
/// run.stop()?;
/// assert!(run.field("params/lr").assign(0.02).is_err()); // stopped
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Object {
    inner: Arc<ObjectInner>,
}

impl Object {
    pub(crate) fn from_inner(inner: Arc<ObjectInner>) -> Object {
        Object { inner }
    }

    pub(crate) fn inner(&self) -> &Arc<ObjectInner> {
        &self.inner
    }

    /// `sys/id`, e.g. `"SAN-3"`.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Run, model, model version or project.
    pub fn kind(&self) -> ObjectKind {
        self.inner.kind
    }

    /// The project's name.
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// The connection mode.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The handler of a path (the reference's `run["a/b"]`).
    pub fn field(&self, path: &str) -> Handler {
        Handler::new(self.inner.clone(), path)
    }

    /// The object's root namespace.
    pub fn root(&self) -> Handler {
        Handler::root(self.inner.clone())
    }

    /// `sys/tags`.
    pub fn tags(&self) -> StringSetHandle {
        StringSetHandle::tags(self.inner.clone())
    }

    /// Assigns a map or value at the root (each entry becomes a field).
    pub fn assign(&self, value: impl Into<Value>) -> Result<()> {
        self.root().assign(value)
    }

    /// Assigns every field of a serde-serializable value at the root.
    pub fn assign_serde<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.root().assign_serde(value)
    }

    /// Every single-value field, as a nested map.
    pub fn fetch(&self) -> Result<Value> {
        self.inner.fetch_namespace(None)
    }

    /// Whether a field or namespace exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.root().exists(path)
    }

    /// The object's fields, as a tree.
    pub fn get_structure(&self) -> Structure {
        self.inner.structure(None)
    }

    /// Prints the structure as an indented tree.
    pub fn print_structure(&self) {
        print!("{}", self.get_structure().render());
    }

    /// Deletes the field or namespace at `path`.
    pub fn pop(&self, path: &str) -> Result<()> {
        self.root().pop(path)
    }

    /// Waits until everything logged so far is stored and flushed to disk (it survives a
    /// crash of the process or of the operating system; with a server: until the server has
    /// done so); reports writes that failed in the background since the last call.
    pub fn wait(&self) -> Result<()> {
        self.inner.wait()
    }

    /// Writes what is queued, then reloads the field list from the store (fields other
    /// processes wrote become visible).
    pub fn sync(&self) -> Result<()> {
        self.inner.sync()
    }

    /// Writes what is queued (waiting at most the stop timeout), marks the object Inactive
    /// and ends its worker. Later writes are refused. Dropping the last handle does the same.
    ///
    /// `Err` when anything written through this object since it opened was not kept (refused
    /// by the store or server, or not written at all), even if `wait()` reported it before.
    pub fn stop(&self) -> Result<()> {
        self.inner.stop()
    }

    /// [`wait`](Self::wait) for async code: the waiting happens on a thread of its own, so the
    /// executor's thread stays free.
    pub fn wait_async(&self) -> Unblock<Result<()>> {
        let inner = self.inner().clone();
        unblock(move || inner.wait())
    }

    /// [`sync`](Self::sync) for async code (see [`wait_async`](Self::wait_async)).
    pub fn sync_async(&self) -> Unblock<Result<()>> {
        let inner = self.inner.clone();
        unblock(move || inner.sync())
    }

    /// [`stop`](Self::stop) for async code (see [`wait_async`](Self::wait_async)). Awaiting it
    /// before the last handle drops inside a runtime keeps the drop from waiting there.
    pub fn stop_async(&self) -> Unblock<Result<()>> {
        let inner = self.inner.clone();
        unblock(move || inner.stop())
    }

    /// Operations written through this object that were not kept (refused by the store or
    /// server, or lost with a batch that could not be written), since it opened. Each was
    /// reported when it happened: a tracing warning, or a line on stderr when no tracing
    /// subscriber is installed (async mode).
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// use neptune_core::{Mode, Run};
    /// let run = Run::builder().mode(Mode::Debug).open()?;
    /// run.field("loss").float_series()?.append(0.5)?;
    /// run.wait()?;
    /// assert_eq!(run.failures(), 0);
    /// # Ok(()) }
    /// ```
    pub fn failures(&self) -> u64 {
        self.inner.shared.failed_total()
    }

    /// Series values written to the backend so far by this process.
    pub fn values_written(&self) -> u64 {
        self.inner
            .shared
            .values_written
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({} mode)", self.kind(), self.id(), self.mode())
    }
}

macro_rules! object_type {
    ($(#[$doc:meta])* $name:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(Object);

        impl Deref for $name {
            type Target = Object;
            fn deref(&self) -> &Object {
                &self.0
            }
        }

        impl ObjectType for $name {
            const KIND: ObjectKind = ObjectKind::$kind;
            fn wrap(o: Object) -> Self {
                $name(o)
            }
        }

        impl $name {
            /// A builder with every setting at its default (environment variables included).
            pub fn builder() -> Builder<$name> {
                Builder::new()
            }
        }
    };
}

object_type!(
    /// A run: one execution of a training or evaluation script.
    Run, Run);
object_type!(
    /// A model: the versions of one model.
    Model, Model);
object_type!(
    /// A model version, numbered per model.
    ModelVersion, ModelVersion);
object_type!(
    /// A project: holds runs and models, and fields of its own.
    Project, Project);

impl ModelVersion {
    /// Moves the version to a stage: "none", "staging", "production" or "archived".
    pub fn change_stage(&self, stage: &str) -> Result<()> {
        let stage = stage.to_ascii_lowercase();
        if !MODEL_STAGES.contains(&stage.as_str()) {
            return Err(Error::invalid(
                sys::STAGE,
                format!("unknown stage {stage:?}; use one of {MODEL_STAGES:?}"),
            ));
        }
        self.inner.check_writable(&sys::path(sys::NAME))?;
        self.inner.write_internal(Operation::AssignString {
            path: sys::path(sys::STAGE),
            value: stage,
        });
        self.inner.after_write(false)
    }
}

/// The four object types.
pub trait ObjectType: Sized {
    /// The kind of object this type opens.
    const KIND: ObjectKind;
    #[doc(hidden)]
    fn wrap(o: Object) -> Self;
}

/// Opens a run (or model, model version, project): settings from the builder, else from the
/// environment (`NEPTUNE_PROJECT`, `NEPTUNE_MODE`, `NEPTUNE_HOME`, `NEPTUNE_CUSTOM_RUN_ID`).
#[must_use = "call open() to open the object"]
pub struct Builder<T> {
    project: Option<String>,
    with_id: Option<String>,
    custom_run_id: Option<String>,
    model: Option<String>,
    name: Option<String>,
    description: Option<String>,
    tags: Vec<String>,
    mode: Option<Mode>,
    home: Option<PathBuf>,
    backend: Option<Backend>,
    url: Option<String>,
    api_token: Option<String>,
    flush_interval: Duration,
    stop_timeout: Duration,
    queue_capacity: usize,
    git_ref: crate::files::GitRef,
    capture_traceback: bool,
    capture: crate::monitoring::Capture,
    _t: PhantomData<fn() -> T>,
}

impl<T: ObjectType> Builder<T> {
    fn new() -> Self {
        Builder {
            project: None,
            with_id: None,
            custom_run_id: None,
            model: None,
            name: None,
            description: None,
            tags: Vec::new(),
            mode: None,
            home: None,
            backend: None,
            url: None,
            api_token: None,
            flush_interval: config::DEFAULT_FLUSH_INTERVAL,
            stop_timeout: config::DEFAULT_STOP_TIMEOUT,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            git_ref: crate::files::GitRef::default(),
            capture_traceback: true,
            capture: crate::monitoring::Capture::default(),
            _t: PhantomData,
        }
    }

    /// Project name, e.g. `"ml-team/nli"` (default: `NEPTUNE_PROJECT`, else `local/sandbox`):
    /// `workspace/project`, with ASCII letters, digits, `-`, `_` and `.`; `open()` refuses
    /// another name with an `Err` naming the rule.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Resumes the existing object with this `sys/id`.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.with_id = Some(id.into());
        self
    }

    /// `sys/name` (written on creation, "Untitled" by default; on resume only when given).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// `sys/description`.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Tags added to `sys/tags`.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Connection mode (default: `NEPTUNE_MODE`, else async).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Folder of the embedded store (default: `NEPTUNE_HOME`, else `./.neptune`).
    pub fn home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    /// Log to the `neptune-server` at this address (default: `NEPTUNE_URL`; unset: the
    /// embedded store). Needs the `http` feature. Writes go through a durable queue in
    /// `NEPTUNE_HOME/queue` first; offline mode only fills that queue (see `neptune sync`).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The server's API token (default: `NEPTUNE_API_TOKEN`), from
    /// `neptune-server token create --project P --scope write`.
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.api_token = Some(token.into());
        self
    }

    /// Use this backend instead of the one the mode chooses (tests, custom storage): a
    /// [`Backend`], or an `Arc` of a store (writer and reader) or of a [`MemoryBackend`].
    pub fn backend(mut self, backend: impl Into<Backend>) -> Self {
        self.backend = Some(backend.into());
        self
    }

    /// How often the background worker writes (default 500 ms): at most this much logged
    /// data is lost if the process is killed.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// How long `stop()` waits for queued data (default 60 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Values the queue holds before writers wait for the worker (default 1,000,000).
    pub fn queue_capacity(mut self, values: usize) -> Self {
        self.queue_capacity = values;
        self
    }

    /// Opens the object: creates it, or resumes it with `with_id` / joins it with `custom_run_id`.
    pub fn open(self) -> Result<T> {
        let mode = match self.mode {
            Some(m) => m,
            None => config::mode_from_env()?,
        };
        let project = self.project.unwrap_or_else(config::project_from_env);
        config::check_project_name(&project)?;
        let custom_run_id = match T::KIND {
            ObjectKind::Run => self.custom_run_id.or_else(config::custom_run_id_from_env),
            _ => None,
        };
        if self.with_id.is_some() && custom_run_id.is_some() {
            return Err(Error::Config(
                "give with_id or custom_run_id, not both".into(),
            ));
        }
        if let Some(c) = &custom_run_id {
            if c.is_empty() || c.chars().count() > MAX_CUSTOM_RUN_ID {
                return Err(Error::Config(format!(
                    "custom_run_id must have 1 to {MAX_CUSTOM_RUN_ID} characters, got {c:?}"
                )));
            }
        }
        if mode == Mode::ReadOnly && self.with_id.is_none() && T::KIND != ObjectKind::Project {
            return Err(Error::Config(
                "read-only mode opens an existing object: give with_id(\"ID\")".into(),
            ));
        }
        let url = self.url.or_else(crate::backend::http_choice::url_from_env);
        let backend: Backend = match (self.backend, mode, url) {
            (Some(b), _, _) => b,
            (None, Mode::Debug, _) => Arc::new(MemoryBackend::new()).backend(),
            (None, _, Some(url)) => {
                let home = self.home.unwrap_or_else(config::home_from_env);
                crate::backend::http_choice::remote(&url, self.api_token, &home, mode)?
            }
            (None, _, None) => {
                let home = self.home.unwrap_or_else(config::home_from_env);
                Backend::of(Arc::new(Store::open(&home)?))
            }
        };
        let req = OpenRequest {
            kind: T::KIND,
            project,
            with_id: self.with_id,
            custom_run_id,
            model: self.model,
            owner: config::owner(),
            read_only: mode == Mode::ReadOnly,
        };
        let info = backend.writer().open_object(&req)?;
        let created = info.created;
        let inner = ObjectInner::start(
            info,
            backend,
            mode,
            self.flush_interval,
            self.stop_timeout,
            self.queue_capacity,
        )?;
        let obj = Object::from_inner(Arc::new(inner));
        if mode != Mode::ReadOnly {
            let name = match (self.name, created) {
                (Some(n), _) => Some(n),
                (None, true) => Some("Untitled".to_owned()),
                (None, false) => None,
            };
            let mut ops = Vec::new();
            if let Some(name) = name {
                ops.push(Operation::AssignString {
                    path: sys::path(sys::NAME),
                    value: name,
                });
            }
            match (self.description, created) {
                (Some(d), _) => ops.push(Operation::AssignString {
                    path: sys::path(sys::DESCRIPTION),
                    value: d,
                }),
                (None, true) => ops.push(Operation::AssignString {
                    path: sys::path(sys::DESCRIPTION),
                    value: String::new(),
                }),
                _ => {}
            }
            if created || !self.tags.is_empty() {
                ops.push(Operation::AddStrings {
                    path: sys::path(sys::TAGS),
                    values: self.tags,
                });
            }
            if created {
                ops.push(Operation::AssignBool {
                    path: sys::path(sys::FAILED),
                    value: false,
                });
                ops.push(Operation::AssignString {
                    path: sys::path(sys::HOSTNAME),
                    value: config::hostname(),
                });
            }
            for op in ops {
                obj.inner.write_internal(op);
            }
            if created && T::KIND == ObjectKind::Run {
                crate::files::capture_git(&obj.inner, &self.git_ref);
            }
            if T::KIND == ObjectKind::Run && self.capture_traceback {
                crate::monitoring::traceback::watch(&obj.inner);
            }
            if T::KIND == ObjectKind::Run {
                crate::monitoring::start(&obj.inner, &self.capture, created)?;
            }
            obj.inner.after_write(false)?;
        }
        Ok(T::wrap(obj))
    }
}

impl Builder<Run> {
    /// Whether a panic on the thread that opens the run is written to
    /// `monitoring/<id>/traceback` (message, location, backtrace) and sets `sys/failed`, as the
    /// reference's `capture_traceback` (default: on). The panic goes on as before.
    pub fn capture_traceback(mut self, capture: bool) -> Self {
        self.capture_traceback = capture;
        self
    }

    /// Whether CPU, memory, disk and network use of the machine and of this process (and GPU
    /// use, with the `gpu` feature and an NVIDIA driver) are sampled on a background thread
    /// into FloatSeries `monitoring/<id>/cpu`, `memory`, `disk`, `network_sent`,
    /// `network_received`, `process_cpu`, `process_memory`, `process_disk_read`,
    /// `process_disk_write`, `gpu_<i>`, `gpu_memory_<i>`, `gpu_temperature_<i>`,
    /// `gpu_power_<i>` (default: on, every [`monitoring_interval`](Self::monitoring_interval)).
    /// The first points come one interval after `open()`. With it, or with a capture of the
    /// output, the run also gets `monitoring/<id>/hostname`, `pid` and `rust_version`.
    pub fn capture_hardware_metrics(mut self, capture: bool) -> Self {
        self.capture.hardware = capture;
        self
    }

    /// How often the hardware metrics are sampled (default 10 s; must be longer than zero).
    pub fn monitoring_interval(mut self, interval: Duration) -> Self {
        self.capture.interval = interval;
        self
    }

    /// Whether what the process prints on stdout (file descriptor 1, child processes
    /// included) is also appended, a line per entry, to the StringSeries
    /// `monitoring/<id>/stdout`; it still reaches the terminal, and the terminal is put back
    /// at `stop()`. Default: off, unlike the original client: the stream becomes a pipe while
    /// captured, so programs that check for a terminal (colours, progress bars) see none.
    /// Unix only. One run per process can capture a stream: `open()` of a second one is an
    /// `Err` until the first stops.
    pub fn capture_stdout(mut self, capture: bool) -> Self {
        self.capture.stdout = capture;
        self
    }

    /// As [`capture_stdout`](Self::capture_stdout), for stderr into `monitoring/<id>/stderr`
    /// (the library's own `neptune: ` reports reach the terminal but are not logged).
    pub fn capture_stderr(mut self, capture: bool) -> Self {
        self.capture.stderr = capture;
        self
    }

    /// Whether the `Cargo.lock` nearest above the working directory is uploaded to the File
    /// `source_code/dependencies` when the run is created. Default: on, except for runs whose
    /// data stays in memory (debug mode, a memory backend), as with `source_code/git`.
    pub fn capture_dependencies(mut self, capture: bool) -> Self {
        self.capture.dependencies = Some(capture);
        self
    }

    /// Where to look for the Git repository recorded in `source_code/git` (and the
    /// uncommitted changes in `source_code/diff`) when the run is created: the working
    /// directory by default, [`GitRef::new(path)`](crate::GitRef::new), or
    /// [`GitRef::Disabled`](crate::GitRef::Disabled).
    pub fn git_ref(mut self, git_ref: crate::files::GitRef) -> Self {
        self.git_ref = git_ref;
        self
    }

    /// Processes that open the same custom run id write into one run (at most 36 characters).
    pub fn custom_run_id(mut self, id: impl Into<String>) -> Self {
        self.custom_run_id = Some(id.into());
        self
    }
}

impl Builder<Model> {
    /// The model key (uppercase letters and digits): `"FOREST"` gives the id `KEY-FOREST`.
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.model = Some(key.into());
        self
    }
}

impl Builder<ModelVersion> {
    /// The `sys/id` of the model this is a version of.
    pub fn model(mut self, model_id: impl Into<String>) -> Self {
        self.model = Some(model_id.into());
        self
    }
}

/// Opens a run with every setting from the environment (the reference's `init_run()`).
pub fn init_run() -> Result<Run> {
    Run::builder().open()
}

/// Opens a project with every setting from the environment.
pub fn init_project() -> Result<Project> {
    Project::builder().open()
}
