//! Parsing and checking: the derive input becomes an IR ([`ast::Container`]) with every
//! attribute resolved, and every mistake is collected in a [`Ctxt`] so that a user sees all of
//! them at once. Nothing here generates code.

pub mod ast;
pub mod attr;
pub mod case;
mod check;
mod ctxt;

pub use ctxt::Ctxt;
