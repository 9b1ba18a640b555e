//! diag: read → parse → correlate → rules → report, for the logs of a Citadel P2P messenger.
//!
//! - [`source`] turns LOGS arguments into labelled inputs and inputs into lines (gz, stdin, caps);
//! - [`format`] loads the format definitions of `parsers/` (data), [`parse`] cuts lines into records,
//!   [`entities`] finds CIDs, UUIDs and names in them, giving [`event::Event`]s;
//! - [`correlate`] aligns the sources on one [`correlate::Timeline`] (clocks, anchors, CID resolution);
//! - [`pipeline`] is the one place where these meet;
//! - [`rules`] evaluate `rules/*.toml` over the timeline into findings and incidents;
//! - [`report`] writes text, JSON and NDJSON; [`tui`] is the interactive view; [`cli`] is the command line.
#![warn(missing_docs)]

pub mod cli;
pub mod correlate;
pub mod entities;
pub mod event;
pub mod filter;
pub mod format;
pub mod parse;
pub mod pipeline;
pub mod profile;
pub mod report;
pub mod rules;
pub mod source;
pub mod templates;
pub mod tui;
