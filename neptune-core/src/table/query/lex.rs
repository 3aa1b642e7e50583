//! The tokens of the table filter language.

use super::Op;
use crate::error::Result;
use crate::table::bad_query;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    LParen,
    RParen,
    Op(Op),
    /// A bare word (a path, a keyword or a value) or a back-quoted path (`true`).
    Word(String, bool),
    /// A quoted text.
    Text(String),
}

const NQL_TYPES: [&str; 14] = [
    "float",
    "int",
    "integer",
    "bool",
    "boolean",
    "string",
    "datetime",
    "floatseries",
    "stringseries",
    "stringset",
    "experimentstate",
    "runstate",
    "gitref",
    "artifact",
];

pub(super) fn tokenize(s: &str) -> Result<Vec<Tok>> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('=', Some('=')) => (Op::Eq, 2),
                    ('=', _) => (Op::Eq, 1),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('>', _) => (Op::Gt, 1),
                    _ => {
                        return Err(bad_query(format!(
                            "unexpected '!' at character {}; use != or NOT",
                            i + 1
                        )))
                    }
                };
                out.push(Tok::Op(op));
                i += len;
            }
            '"' | '\'' | '`' => {
                let quote = c;
                let start = i;
                i += 1;
                let mut text = String::new();
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(bad_query(format!(
                                "the quote {quote} at character {} is not closed",
                                start + 1
                            )))
                        }
                        Some('\\') if chars.get(i + 1).is_some() => {
                            text.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&ch) if ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(if quote == '`' {
                    Tok::Word(text, true)
                } else {
                    Tok::Text(text)
                });
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(
                        chars[i],
                        '(' | ')' | '=' | '!' | '<' | '>' | '"' | '\'' | '`'
                    )
                {
                    i += 1;
                }
                let mut word: String = chars[start..i].iter().collect();
                // NQL writes `path:type`; the type is known from the store.
                if let Some((p, t)) = word.rsplit_once(':') {
                    if NQL_TYPES.contains(&t.to_ascii_lowercase().as_str()) && !p.is_empty() {
                        word = p.to_owned();
                    }
                }
                out.push(Tok::Word(word, false));
            }
        }
    }
    Ok(out)
}
