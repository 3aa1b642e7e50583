//! The leaf types: their `Loggable` impls, the handles defined here ([`ValueHandle`],
//! [`OptionalHandle`]) and the marker types of series and sets.

use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset, Local, Utc};
use serde::{Deserialize, Serialize};

use super::{single_fields, At, Binder, Fields, Loggable, Reader, SingleValue, Writer};
use crate::error::{Error, Result};
use crate::handles::typed::{
    FloatSeriesHandle, ScalarHandle, SeriesHandle, StringSeriesHandle, StringSetHandle,
};
use crate::model::path::FieldPath;
use crate::model::types::FieldType;
use crate::options::WriteOptions;

/// `__bind` of a single-value type whose handle is a [`ValueHandle`].
#[doc(hidden)]
pub fn single_bind<T: SingleValue>(at: &At, binder: &Binder) -> Result<ValueHandle<T>> {
    Ok(ValueHandle {
        inner: ScalarHandle::bind(binder.obj.clone(), at.field_path()?)?,
        _t: PhantomData,
    })
}

// ---- leaf handles defined here -----------------------------------------------------------------

/// Handle of a Float or Integer field seen as another Rust number type (`f32`, `u8`, `i32`,
/// `u64`, …), or of a String field holding a unit-only enum: `assign` and `fetch`, converting
/// and checking the range (an integer outside `i64` is an `Err` at the call, as is a stored
/// value that does not fit `T`).
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let batch = run.bind::<u32>("params/batch")?;
/// batch.assign(64)?;
/// assert_eq!(batch.fetch()?, 64u32);
/// assert!(run.bind::<u64>("params/seed")?.assign(u64::MAX).is_err()); // beyond i64
/// # Ok(()) }
/// ```
pub struct ValueHandle<T: SingleValue> {
    inner: ScalarHandle<T::Stored>,
    _t: PhantomData<fn() -> T>,
}

impl<T: SingleValue> Clone for ValueHandle<T> {
    fn clone(&self) -> Self {
        ValueHandle {
            inner: self.inner.clone(),
            _t: PhantomData,
        }
    }
}

fn convert<S>(path: &FieldPath, r: std::result::Result<S, String>) -> Result<S> {
    r.map_err(|reason| Error::invalid(path, reason))
}

impl<T: SingleValue> ValueHandle<T> {
    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        self.inner.path()
    }

    /// Sets the value.
    pub fn assign(&self, value: T) -> Result<()> {
        self.assign_with(value, WriteOptions::default())
    }

    /// Sets the value, with the reference's `wait`.
    pub fn assign_with(&self, value: T, opts: WriteOptions) -> Result<()> {
        let stored = convert(self.path(), value.to_stored())?;
        self.inner.assign_with(stored, opts)
    }

    /// Reads the stored value.
    pub fn fetch(&self) -> Result<T> {
        convert(self.path(), T::from_stored(self.inner.fetch()?))
    }
}

/// Handle of an `Option<T>` field: a single-value field that is absent until assigned.
/// `fetch` gives `None` while it is absent.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
/// let seed = run.bind::<Option<i64>>("params/seed")?;
/// assert_eq!(seed.fetch()?, None);
/// seed.assign(42)?;
/// assert_eq!(seed.fetch()?, Some(42));
/// # Ok(()) }
/// ```
pub struct OptionalHandle<T: SingleValue> {
    inner: ScalarHandle<T::Stored>,
    _t: PhantomData<fn() -> T>,
}

impl<T: SingleValue> Clone for OptionalHandle<T> {
    fn clone(&self) -> Self {
        OptionalHandle {
            inner: self.inner.clone(),
            _t: PhantomData,
        }
    }
}

impl<T: SingleValue> OptionalHandle<T> {
    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        self.inner.path()
    }

    /// Sets the value.
    pub fn assign(&self, value: T) -> Result<()> {
        self.assign_with(value, WriteOptions::default())
    }

    /// Sets the value, with the reference's `wait`.
    pub fn assign_with(&self, value: T, opts: WriteOptions) -> Result<()> {
        let stored = convert(self.path(), value.to_stored())?;
        self.inner.assign_with(stored, opts)
    }

    /// Reads the stored value; `None` while the field is absent.
    pub fn fetch(&self) -> Result<Option<T>> {
        match self.inner.fetch() {
            Ok(v) => convert(self.path(), T::from_stored(v)).map(Some),
            Err(Error::MissingField { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---- leaf impls --------------------------------------------------------------------------------

/// Types stored as themselves, with core's [`ScalarHandle`].
macro_rules! scalar_leaf {
    ($($t:ty),*) => {$(
        impl SingleValue for $t {
            type Stored = $t;
            #[allow(clippy::clone_on_copy)]
            fn to_stored(&self) -> std::result::Result<$t, String> {
                Ok(self.clone())
            }
            fn from_stored(stored: $t) -> std::result::Result<$t, String> {
                Ok(stored)
            }
        }

        impl Loggable for $t {
            type Handle = ScalarHandle<$t>;
            fn __fields(at: &At, out: &mut Fields) {
                single_fields::<$t>(at, out)
            }
            fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle> {
                ScalarHandle::bind(binder.obj.clone(), at.field_path()?)
            }
            fn __write(value: &Self, at: &At, writer: &mut Writer<'_>) {
                writer.single(value, at)
            }
            fn __read(at: &At, reader: &mut Reader) -> Option<Self> {
                reader.single(at)
            }
        }
    )*};
}
scalar_leaf!(
    f64,
    i64,
    bool,
    String,
    DateTime<Utc>,
    DateTime<Local>,
    DateTime<FixedOffset>
);

/// Types converted to a stored type, with a [`ValueHandle`].
macro_rules! converted_leaf {
    ($($t:ty),*) => {$(
        impl Loggable for $t {
            type Handle = ValueHandle<$t>;
            fn __fields(at: &At, out: &mut Fields) {
                single_fields::<$t>(at, out)
            }
            fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle> {
                single_bind(at, binder)
            }
            fn __write(value: &Self, at: &At, writer: &mut Writer<'_>) {
                writer.single(value, at)
            }
            fn __read(at: &At, reader: &mut Reader) -> Option<Self> {
                reader.single(at)
            }
        }
    )*};
}

macro_rules! integer_leaf {
    ($($t:ty),*) => {$(
        impl SingleValue for $t {
            type Stored = i64;
            #[allow(clippy::unnecessary_fallible_conversions, irrefutable_let_patterns)]
            fn to_stored(&self) -> std::result::Result<i64, String> {
                i64::try_from(*self)
                    .map_err(|_| format!("{self} is outside the Integer range (i64)"))
            }
            #[allow(clippy::unnecessary_fallible_conversions)]
            fn from_stored(stored: i64) -> std::result::Result<$t, String> {
                <$t>::try_from(stored).map_err(|_| {
                    format!("the stored Integer {stored} does not fit a {}", stringify!($t))
                })
            }
        }
        converted_leaf!($t);
    )*};
}
integer_leaf!(i8, i16, i32, i128, isize, u8, u16, u32, u64, u128, usize);

impl SingleValue for f32 {
    type Stored = f64;
    fn to_stored(&self) -> std::result::Result<f64, String> {
        Ok(f64::from(*self))
    }
    fn from_stored(stored: f64) -> std::result::Result<f32, String> {
        if stored.is_finite() && stored.abs() > f64::from(f32::MAX) {
            return Err(format!("the stored Float {stored} does not fit an f32"));
        }
        Ok(stored as f32)
    }
}
converted_leaf!(f32);

impl<T: SingleValue> Loggable for Option<T> {
    type Handle = OptionalHandle<T>;
    fn __fields(at: &At, out: &mut Fields) {
        single_fields::<T>(at, out)
    }
    fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle> {
        Ok(OptionalHandle {
            inner: ScalarHandle::bind(binder.obj.clone(), at.field_path()?)?,
            _t: PhantomData,
        })
    }
    /// `None` writes nothing: a stored value stays, an absent field stays absent.
    fn __write(value: &Self, at: &At, writer: &mut Writer<'_>) {
        if let Some(v) = value {
            writer.single(v, at)
        }
    }
    fn __read(at: &At, reader: &mut Reader) -> Option<Self> {
        reader.optional(at)
    }
}

macro_rules! marker {
    ($(#[$doc:meta])* $name:ident, $t:ident, $handle:ty, $bind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name;

        impl Loggable for $name {
            type Handle = $handle;
            fn __fields(at: &At, out: &mut Fields) {
                out.push(at, FieldType::$t);
            }
            fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle> {
                $bind(binder.obj.clone(), at.field_path()?)
            }
            /// Writes nothing: the data is logged through the handle.
            fn __write(_: &Self, _: &At, _: &mut Writer<'_>) {}
            fn __read(at: &At, reader: &mut Reader) -> Option<Self> {
                reader.marker(at, FieldType::$t).map(|()| $name)
            }
        }
    };
}

marker!(
    /// A FloatSeries field of a `Loggable` struct. As a value it is a marker that holds no
    /// points: the points are appended and fetched through the field's
    /// [`FloatSeriesHandle`](crate::FloatSeriesHandle). A whole-value `assign_value` writes
    /// nothing for it, and `fetch_as` checks that the stored field, if any, is a FloatSeries.
    /// It serializes (serde) as a unit, which `assign_serde` skips.
    FloatSeries,
    FloatSeries,
    FloatSeriesHandle,
    |obj, path: FieldPath| SeriesHandle::bind(obj, &path)
);

marker!(
    /// A StringSeries field of a `Loggable` struct: a marker like [`FloatSeries`]; the
    /// entries go through its [`StringSeriesHandle`](crate::StringSeriesHandle).
    StringSeries,
    StringSeries,
    StringSeriesHandle,
    |obj, path: FieldPath| SeriesHandle::bind(obj, &path)
);

marker!(
    /// A StringSet field of a `Loggable` struct: a marker like [`FloatSeries`]; the strings
    /// go through its [`StringSetHandle`](crate::StringSetHandle). As in the reference, the only
    /// StringSet is `sys/tags`: bind a struct holding `tags: StringSet` at `"sys"`.
    StringSet,
    StringSet,
    StringSetHandle,
    StringSetHandle::bind
);

marker!(
    /// A FileSeries field of a `Loggable` struct: a marker like [`FloatSeries`]; the files go
    /// through its [`FileSeriesHandle`](crate::FileSeriesHandle).
    FileSeries,
    FileSeries,
    crate::files::FileSeriesHandle,
    |obj, path: FieldPath| crate::files::FileSeriesHandle::bind(obj, &path)
);

marker!(
    /// A FileSet field of a `Loggable` struct: a marker like [`FloatSeries`]; the files go
    /// through its [`FileSetHandle`](crate::FileSetHandle).
    FileSet,
    FileSet,
    crate::files::FileSetHandle,
    crate::files::FileSetHandle::bind
);

marker!(
    /// An Artifact field of a `Loggable` struct: a marker like [`FloatSeries`]; files are
    /// tracked through its [`ArtifactHandle`](crate::ArtifactHandle).
    Artifact,
    Artifact,
    crate::files::ArtifactHandle,
    crate::files::ArtifactHandle::bind
);

/// A File field: the value is the file itself. A whole-value assign stores its content and
/// uploads it; `fetch_as` reads the stored content back (large content is spooled to a
/// temporary file, not held in memory).
impl Loggable for crate::files::File {
    type Handle = crate::files::FileHandle;
    fn __fields(at: &At, out: &mut Fields) {
        out.push(at, FieldType::File);
    }
    fn __bind(at: &At, binder: &Binder) -> Result<Self::Handle> {
        crate::files::FileHandle::bind(binder.obj.clone(), at.field_path()?)
    }
    fn __write(value: &Self, at: &At, writer: &mut Writer<'_>) {
        let stored = at.field_path().and_then(|path| {
            let file = value.store(writer.obj.backend(), &path, &crate::ProgressBar::Off)?;
            Ok(crate::Operation::UploadFile { path, file })
        });
        match stored {
            Ok(op) => writer.ops.push(op),
            Err(e) => writer.problems.push(e),
        }
    }
    fn __read(at: &At, reader: &mut Reader) -> Option<Self> {
        reader.file(at)
    }
}
