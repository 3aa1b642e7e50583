//! Colour for a terminal, decided once per stream at start.
//!
//! `--color auto` (the default) colours a stream only when it is a terminal, `NO_COLOR` is not
//! set, and `TERM` is not `dumb`; `CLICOLOR_FORCE` forces colour through a pipe (and loses to
//! `NO_COLOR`), as clap's own help does. `--color always` and `--color never` decide alone.
//! Styles wrap text that is already escaped and aligned, so colour never changes a width.

use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};
use clap::ValueEnum;

/// When to colour (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorArg {
    /// On a terminal, unless NO_COLOR is set or TERM is dumb (CLICOLOR_FORCE: through a pipe too).
    #[default]
    Auto,
    /// Always, even through a pipe.
    Always,
    /// Never.
    Never,
}

static STDOUT: AtomicBool = AtomicBool::new(false);
static STDERR: AtomicBool = AtomicBool::new(false);

/// Decides for stdout and stderr; called once, before any output.
pub(crate) fn init(choice: ColorArg) {
    let decide = |auto: fn() -> bool| match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => auto(),
    };
    STDOUT.store(decide(|| auto(&std::io::stdout())), Ordering::Relaxed);
    STDERR.store(decide(|| auto(&std::io::stderr())), Ordering::Relaxed);
}

fn auto<S: anstream::stream::RawStream>(stream: &S) -> bool {
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// Whether stdout is coloured.
pub(crate) fn on() -> bool {
    STDOUT.load(Ordering::Relaxed)
}

fn paint(enabled: bool, style: Style, text: &str) -> String {
    if enabled && !text.is_empty() {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

/// A table's header line, and the id line of `neptune show`.
pub(crate) fn heading(text: &str) -> String {
    paint(on(), Style::new().bold(), text)
}

/// Rules and counts: what frames the data.
pub(crate) fn muted(text: &str) -> String {
    paint(on(), Style::new().dimmed(), text)
}

/// A namespace of `neptune show`.
pub(crate) fn namespace(text: &str) -> String {
    paint(
        on(),
        Style::new().bold().fg_color(Some(AnsiColor::Blue.into())),
        text,
    )
}

/// A field type of `neptune show`.
pub(crate) fn kind(text: &str) -> String {
    paint(
        on(),
        Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        text,
    )
}

/// A sparkline.
pub(crate) fn spark(text: &str) -> String {
    paint(
        on(),
        Style::new().fg_color(Some(AnsiColor::Green.into())),
        text,
    )
}

/// The first object's side of `neptune diff`.
pub(crate) fn left(text: &str) -> String {
    paint(
        on(),
        Style::new().fg_color(Some(AnsiColor::Red.into())),
        text,
    )
}

/// The second object's side of `neptune diff`.
pub(crate) fn right(text: &str) -> String {
    paint(
        on(),
        Style::new().fg_color(Some(AnsiColor::Green.into())),
        text,
    )
}

/// The `neptune:` that starts an error message on stderr.
pub(crate) fn error_prefix() -> String {
    paint(
        STDERR.load(Ordering::Relaxed),
        Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        "neptune:",
    )
}
