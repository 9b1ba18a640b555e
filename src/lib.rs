//! diag: read → parse → correlate → rules → report, for the logs of a Citadel P2P messenger.
#![warn(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod correlate;
pub mod defs;
pub mod entities;
pub mod filter;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod source;
#[cfg(feature = "tui")]
pub mod tui;
