//! Field paths: `"train/loss"`, validated once when a handle is made.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest accepted path, in characters (the newer original client's limit).
pub const MAX_PATH_LEN: usize = 1024;

/// A validated field path: one or more non-empty segments joined by `/`.
///
/// ```
/// use neptune_core::FieldPath;
/// let p = FieldPath::parse("train/loss").unwrap();
/// assert_eq!(p.segments().collect::<Vec<_>>(), ["train", "loss"]);
/// assert!(FieldPath::parse("train//loss").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath(String);

impl FieldPath {
    /// Checks `path` against the path rules: not empty, no empty segment, at most
    /// [`MAX_PATH_LEN`] characters, no control characters, no `.` or `..` segment, and no
    /// invisible characters (bidirectional overrides, zero-width marks) that would make one path
    /// display as another.
    ///
    /// ```
    /// use neptune_core::FieldPath;
    /// assert!(FieldPath::parse("train/../sys/name").is_err());
    /// assert!(FieldPath::parse("train/lo\u{200b}ss").is_err());
    /// assert!(FieldPath::parse("eval/\u{202e}ssol").is_err());
    /// ```
    pub fn parse(path: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidPath {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        Self::check_shape(path).map_err(bad)?;
        if let Some(c) = path.chars().find(|&c| is_invisible(c)) {
            return Err(bad(&format!(
                "the path contains the invisible character U+{:04X} (a bidirectional or \
                 zero-width mark), which would make it display as another path",
                c as u32
            )));
        }
        if path.split('/').any(|s| s == "." || s == "..") {
            return Err(bad(
                "the path has a '.' or '..' segment; paths have no relative parts",
            ));
        }
        Ok(FieldPath(path.to_owned()))
    }

    /// A system path known to be valid (see `rules::sys`).
    pub(crate) fn system(path: &'static str) -> Self {
        debug_assert!(Self::check_shape(path).is_ok(), "{path}");
        FieldPath(path.to_owned())
    }

    /// A path read back from storage: only the structural rules are checked, so fields written
    /// before a later rule was added stay readable.
    pub(crate) fn stored(path: &str) -> Result<Self> {
        Self::check_shape(path).map_err(|reason| Error::InvalidPath {
            path: path.to_owned(),
            reason: reason.to_owned(),
        })?;
        Ok(FieldPath(path.to_owned()))
    }

    fn check_shape(path: &str) -> std::result::Result<(), &'static str> {
        if path.is_empty() {
            return Err("the path is empty; give a name such as \"train/loss\"");
        }
        if path.chars().count() > MAX_PATH_LEN {
            return Err("the path is longer than 1024 characters");
        }
        if path.chars().any(char::is_control) {
            return Err("the path contains a control character");
        }
        if path.split('/').any(str::is_empty) {
            return Err("the path has an empty segment (a leading, trailing or doubled '/')");
        }
        Ok(())
    }

    /// The path as text, segments joined by `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments of the path, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment (the field's own name).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// `self` followed by the relative path `rel` (validated).
    pub fn join(&self, rel: &str) -> Result<Self> {
        FieldPath::parse(rel)?;
        FieldPath::parse(&format!("{}/{}", self.0, rel))
    }

    /// Joins an optional base namespace with a relative path.
    pub fn under(base: Option<&FieldPath>, rel: &str) -> Result<Self> {
        match base {
            Some(b) => b.join(rel),
            None => FieldPath::parse(rel),
        }
    }

    /// Every proper ancestor, outermost first: `a/b/c` gives `a`, `a/b`.
    pub fn ancestors(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(move |(i, _)| &self.0[..i])
    }

    /// Whether `self` lies strictly below the namespace `ns`.
    pub fn is_below(&self, ns: &str) -> bool {
        self.0.len() > ns.len() && self.0.starts_with(ns) && self.0.as_bytes()[ns.len()] == b'/'
    }

    /// The part of `self` below the namespace `ns`, when it lies below it.
    pub fn relative_to(&self, ns: &str) -> Option<&str> {
        self.is_below(ns).then(|| &self.0[ns.len() + 1..])
    }
}

/// Characters that are drawn as nothing or reorder the text around them: bidirectional
/// controls, zero-width marks and other invisible format characters.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

impl TryFrom<String> for FieldPath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        FieldPath::parse(&s)
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "a/\u{7}",
            "a\nb",
            ".",
            "a/./b",
            "a/..",
            "../sys/name",
            "a\u{202e}b",
            "a\u{2066}b",
            "lo\u{200b}ss",
            "lo\u{200d}ss",
            "\u{feff}loss",
            "a\u{e0041}",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(FieldPath::parse(&"x".repeat(1025)).is_err());
        assert!(FieldPath::parse(&"x".repeat(1024)).is_ok());
        assert!(FieldPath::parse("ünï/cødé 1").is_ok());
        assert!(FieldPath::parse("a/.hidden/..b/c.d").is_ok());
        assert!(FieldPath::parse("日本語/🙂").is_ok());
        assert!(FieldPath::stored("a/./b").is_ok());
        assert!(FieldPath::stored("a//b").is_err());
    }

    #[test]
    fn relations() {
        let p = FieldPath::parse("a/b/c").unwrap();
        assert_eq!(p.ancestors().collect::<Vec<_>>(), ["a", "a/b"]);
        assert!(p.is_below("a/b"));
        assert!(!p.is_below("a/bc"));
        assert!(!p.is_below("a/b/c"));
        assert_eq!(p.relative_to("a"), Some("b/c"));
        assert_eq!(p.name(), "c");
        assert_eq!(p.join("d").unwrap().as_str(), "a/b/c/d");
        assert!(p.join("").is_err());
    }
}
