//! The connection layer: the store's SQL is written once and runs on SQLite or, with the
//! feature `postgres`, on PostgreSQL.
//!
//! Statements use `?N` placeholders; parameters are a borrowed [`Param`] (no allocation per
//! row on the write path); rows are read through [`Row`], whose typed getters tolerate the
//! engines' differences (a boolean or an `INT4` where SQLite has an integer), and whose
//! [`Row::get_ref`] gives the dynamic [`Val`] of a column (`fields.value` holds any type).
//! The few statements whose text differs between the engines take it from [`Tx::engine`].

use std::borrow::Cow;

use super::{Fail, R};

/// The database engine of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// A failure of the engine, or a query that found no row where one was required.
#[derive(Debug)]
pub(crate) enum SqlError {
    Sqlite(rusqlite::Error),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Error),
    NoRows,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SqlError::Sqlite(e) => e.fmt(f),
            #[cfg(feature = "postgres")]
            SqlError::Postgres(e) => match e.as_db_error() {
                // The server's message, its detail and hint: more than `Display` says.
                Some(db) => write!(f, "{db}"),
                None => e.fmt(f),
            },
            SqlError::NoRows => f.write_str("the query returned no row"),
        }
    }
}

impl std::error::Error for SqlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SqlError::Sqlite(e) => Some(e),
            #[cfg(feature = "postgres")]
            SqlError::Postgres(e) => Some(e),
            SqlError::NoRows => None,
        }
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Fail::Sql(SqlError::NoRows),
            e => Fail::Sql(SqlError::Sqlite(e)),
        }
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Sql(SqlError::Postgres(e))
    }
}

/// A statement parameter, borrowed from the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// An owned SQL value: a parameter kept in a list (dynamic queries), or a field's single value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub(crate) fn as_param(&self) -> Param<'_> {
        match self {
            Value::Int(i) => Param::Int(*i),
            Value::Real(f) => Param::Real(*f),
            Value::Text(s) => Param::Text(s),
        }
    }
}

/// What can be bound as a [`Param`].
pub(crate) trait ToParam {
    fn to_param(&self) -> Param<'_>;
}

impl ToParam for Param<'_> {
    fn to_param(&self) -> Param<'_> {
        *self
    }
}
impl ToParam for Value {
    fn to_param(&self) -> Param<'_> {
        self.as_param()
    }
}
impl ToParam for i64 {
    fn to_param(&self) -> Param<'_> {
        Param::Int(*self)
    }
}
impl ToParam for usize {
    fn to_param(&self) -> Param<'_> {
        Param::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToParam for f64 {
    fn to_param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl ToParam for bool {
    fn to_param(&self) -> Param<'_> {
        Param::Int(*self as i64)
    }
}
impl ToParam for str {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for String {
    fn to_param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToParam for [u8] {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl ToParam for Vec<u8> {
    fn to_param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<T: ToParam + ?Sized> ToParam for &T {
    fn to_param(&self) -> Param<'_> {
        (**self).to_param()
    }
}
impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Param<'_> {
        match self {
            Some(v) => v.to_param(),
            None => Param::Null,
        }
    }
}

/// The parameters of a statement: `params![a, b]`, a slice of [`Param`], or an array of
/// values of one type (`[id]`).
pub(crate) trait AsParams {
    fn bind<O>(&self, f: impl FnOnce(&[Param<'_>]) -> O) -> O;
}

impl AsParams for &[Param<'_>] {
    fn bind<O>(&self, f: impl FnOnce(&[Param<'_>]) -> O) -> O {
        f(self)
    }
}

impl<T: ToParam, const N: usize> AsParams for [T; N] {
    fn bind<O>(&self, f: impl FnOnce(&[Param<'_>]) -> O) -> O {
        f(&self.each_ref().map(|v| v.to_param()))
    }
}

impl AsParams for &[Value] {
    fn bind<O>(&self, f: impl FnOnce(&[Param<'_>]) -> O) -> O {
        f(&self.iter().map(Value::as_param).collect::<Vec<_>>())
    }
}

impl AsParams for &Vec<Value> {
    fn bind<O>(&self, f: impl FnOnce(&[Param<'_>]) -> O) -> O {
        self.as_slice().bind(f)
    }
}

/// `params![a, b, …]`: a slice of [`Param`] borrowing each argument.
macro_rules! params {
    () => {
        &[] as &[$crate::store::sql::Param<'_>]
    };
    ($($x:expr),+ $(,)?) => {
        &[$($crate::store::sql::ToParam::to_param(&$x)),+][..]
    };
}
pub(crate) use params;

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput::Borrowed, ValueRef};
        Ok(Borrowed(match *self {
            Param::Null => ValueRef::Null,
            Param::Int(i) => ValueRef::Integer(i),
            Param::Real(f) => ValueRef::Real(f),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
            Param::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// The dynamic value of a column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Blob(Cow<'a, [u8]>),
}

impl Val<'_> {
    /// The kind of value, for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Null => "NULL",
            Val::Int(_) => "an integer",
            Val::Real(_) => "a real",
            Val::Text(_) => "a text",
            Val::Blob(_) => "a blob",
        }
    }

    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> R<Val<'_>> {
        use rusqlite::types::ValueRef;
        Ok(match v {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(i) => Val::Int(i),
            ValueRef::Real(f) => Val::Real(f),
            ValueRef::Text(b) => Val::Text(Cow::Borrowed(
                std::str::from_utf8(b).map_err(|_| super::corrupt("a text is not UTF-8"))?,
            )),
            ValueRef::Blob(b) => Val::Blob(Cow::Borrowed(b)),
        })
    }
}

/// A type a column converts to.
pub(crate) trait FromCol: Sized {
    fn from_val(v: Val<'_>) -> R<Self>;
}

fn mismatch<T>(want: &str, v: &Val<'_>) -> R<T> {
    Err(super::corrupt(format!(
        "expected {want} in the database, found {}",
        v.kind()
    )))
}

impl FromCol for i64 {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Int(i) => Ok(i),
            v => mismatch("an integer", &v),
        }
    }
}
impl FromCol for f64 {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Real(f) => Ok(f),
            Val::Int(i) => Ok(i as f64),
            v => mismatch("a real", &v),
        }
    }
}
impl FromCol for bool {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Int(i) => Ok(i != 0),
            v => mismatch("a boolean", &v),
        }
    }
}
impl FromCol for String {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Text(s) => Ok(s.into_owned()),
            v => mismatch("a text", &v),
        }
    }
}
impl FromCol for Vec<u8> {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Blob(b) => Ok(b.into_owned()),
            v => mismatch("a blob", &v),
        }
    }
}
impl<T: FromCol> FromCol for Option<T> {
    fn from_val(v: Val<'_>) -> R<Self> {
        match v {
            Val::Null => Ok(None),
            v => T::from_val(v).map(Some),
        }
    }
}

/// A column index.
pub(crate) trait ColIndex {
    fn index(self) -> usize;
}
impl ColIndex for usize {
    fn index(self) -> usize {
        self
    }
}
impl ColIndex for i32 {
    fn index(self) -> usize {
        usize::try_from(self).unwrap_or(usize::MAX)
    }
}

/// A row of a result.
#[derive(Clone, Copy)]
pub(crate) enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    #[cfg(feature = "postgres")]
    Postgres(&'a postgres::Row),
}

impl<'a> Row<'a> {
    /// Column `i` as a `T`.
    pub(crate) fn get<I: ColIndex, T: FromCol>(&self, i: I) -> R<T> {
        T::from_val(self.get_ref(i)?)
    }

    /// The dynamic value of column `i`.
    pub(crate) fn get_ref<I: ColIndex>(&self, i: I) -> R<Val<'a>> {
        match *self {
            Row::Sqlite(r) => Val::from_sqlite(r.get_ref(i.index())?),
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => super::pg::column(r, i.index()),
        }
    }
}

/// The rows of a query, read one at a time.
pub(crate) enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    #[cfg(feature = "postgres")]
    Postgres(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> R<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            #[cfg(feature = "postgres")]
            Rows::Postgres(rest, current) => {
                *current = rest.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// The rows of a query, each mapped by a function (as rusqlite's `query_map`).
pub(crate) struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> R<T>> Iterator for MappedRows<'_, F> {
    type Item = R<T>;

    fn next(&mut self) -> Option<R<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A prepared statement.
pub(crate) enum Stmt<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Plain(rusqlite::Statement<'c>),
    #[cfg(feature = "postgres")]
    Postgres(&'c super::pg::Conn, postgres::Statement),
}

impl<'c> Stmt<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Stmt::Cached(s) => Some(s),
            Stmt::Plain(s) => Some(s),
            #[cfg(feature = "postgres")]
            Stmt::Postgres(..) => None,
        }
    }

    /// Runs the statement; the number of rows changed.
    pub(crate) fn execute(&mut self, p: impl AsParams) -> R<usize> {
        if let Some(s) = self.sqlite() {
            return p.bind(|p| Ok(s.execute(rusqlite::params_from_iter(p.iter()))?));
        }
        #[cfg(feature = "postgres")]
        if let Stmt::Postgres(c, s) = self {
            return p.bind(|p| c.execute(s, p));
        }
        unreachable!("a statement of no engine")
    }

    /// Runs the query; its rows.
    pub(crate) fn query(&mut self, p: impl AsParams) -> R<Rows<'_>> {
        #[cfg(feature = "postgres")]
        if let Stmt::Postgres(c, s) = self {
            let rows = p.bind(|p| c.query(s, p))?;
            return Ok(Rows::Postgres(rows.into_iter(), None));
        }
        match self.sqlite() {
            Some(s) => p.bind(|p| Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(p.iter()))?))),
            None => unreachable!("a statement of no engine"),
        }
    }

    /// The first row mapped by `f`; `SqlError::NoRows` when there is none.
    pub(crate) fn query_row<T>(
        &mut self,
        p: impl AsParams,
        f: impl FnOnce(&Row<'_>) -> R<T>,
    ) -> R<T> {
        let mut rows = self.query(p)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Fail::Sql(SqlError::NoRows)),
        }
    }

    /// Every row mapped by `f`.
    pub(crate) fn query_map<T, F: FnMut(&Row<'_>) -> R<T>>(
        &mut self,
        p: impl AsParams,
        f: F,
    ) -> R<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(p)?,
            f,
        })
    }
}

/// `optional()` on a query: no row is `None`.
pub(crate) trait Optional<T> {
    fn optional(self) -> R<Option<T>>;
}

impl<T> Optional<T> for R<T> {
    fn optional(self) -> R<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Fail::Sql(SqlError::NoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A connection inside a transaction, of either engine.
#[derive(Clone, Copy)]
pub(crate) enum Tx<'c> {
    Sqlite(&'c rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(&'c super::pg::Conn),
}

impl<'c> Tx<'c> {
    /// The engine, for the few statements written differently.
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            #[cfg(feature = "postgres")]
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    /// A statement kept prepared on the connection (the store's fixed statements).
    pub(crate) fn prepare_cached(&self, sql: &str) -> R<Stmt<'c>> {
        match *self {
            Tx::Sqlite(c) => Ok(Stmt::Cached(c.prepare_cached(sql)?)),
            #[cfg(feature = "postgres")]
            Tx::Postgres(c) => Ok(Stmt::Postgres(c, c.prepare(sql)?)),
        }
    }

    /// A statement prepared once (a query built for one call).
    pub(crate) fn prepare(&self, sql: &str) -> R<Stmt<'c>> {
        match *self {
            Tx::Sqlite(c) => Ok(Stmt::Plain(c.prepare(sql)?)),
            #[cfg(feature = "postgres")]
            Tx::Postgres(c) => Ok(Stmt::Postgres(c, c.prepare_once(sql)?)),
        }
    }

    /// The first row of a query mapped by `f`.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        p: impl AsParams,
        f: impl FnOnce(&Row<'_>) -> R<T>,
    ) -> R<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }
}
