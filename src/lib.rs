//! diag: read → parse → correlate → rules → report, for the logs of a P2P messenger's service and tabs.
//!
//! The modules are one-way layers: each uses only those listed above it (the cargo features `cli` and
//! `tui`, on by default, add the front ends; without them the engine builds without clap, ratatui
//! and crossterm).
//!
//! | layer | module | owns |
//! |---|---|---|
//! | data | [`model`] | `Event`, `Timeline`, `SourceInfo`, `ClockOffset`, `AnchorLink`, `CidDirectory`, stats: data only |
//! | definitions | [`defs`] | loading every data file (`parsers/*.toml`, rules' TOML text), the embedded built-ins, `DefError` |
//! | input | [`source`] | LOGS arguments → labelled inputs → lines (gz, stdin, globs, line caps) |
//! | | [`filter`] | which timeline events a view shows (CID, source, level, regex) |
//! | records | [`parse`] | lines → records → `Event`s: ANSI, collector prefixes, time, JSON paths, detection, samples |
//! | | [`entities`] | CIDs, UUIDs, names and fields found in events by the shared extractors |
//! | | [`intern`], [`memo`], [`hash`] | strings shared between events; what was computed from recent messages, by their text; the fast hash maps of the per-line work |
//! | timeline | [`correlate`] | sources → one `Timeline`: dates, anchor pairs, clock offsets, placement, merge, CIDs; records appended to it |
//! | | [`pipeline`] | the one place where read, parse and correlate meet (in parallel, per input) |
//! | | [`stream`] | the timeline in two passes: placement from pass 1, events handed on one at a time in pass 2 |
//! | | [`index`] | a compact row per record of a two-pass read; records read again from their files when shown (the TUI on big inputs) |
//! | | [`memory`] | freed memory given back between the passes; resident memory per phase (`DIAG_MEMTRACE`) |
//! | | [`follow`] | what growing inputs gained since they were read, parsed and handed to `correlate::append` |
//! | analysis | [`rules`] | `rules/*.toml` over the timeline → findings, linked into incidents |
//! | | [`lean`] | `check`'s two passes: a sparse timeline of the events a rule can read |
//! | output | [`report`] | one module per output format behind `CheckWriter` / `TimelineWriter` |
//! | history | `history` | recorded runs (SQLite file or PostgreSQL) behind one `Store` trait, migrations, summaries (feature `history`) |
//! | front ends | `tui`, `cli` | the interactive view and the command line (features `tui`, `cli`) |
//!
//! What is specific to one product (which format is a service log, what a CID looks like, which
//! collector's time wins) is data in `parsers/`, not code.
#![warn(missing_docs)]
// Input comes from crashed programs and hostile pages: no panics on it (tests may unwrap; see clippy.toml).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod model;

pub mod defs;
pub mod filter;
pub mod source;

pub mod entities;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod hash;
pub mod intern;
pub mod kmerge;
pub mod memo;
pub mod parse;
pub mod varint;

pub mod correlate;
pub mod memory;
pub mod par;
pub mod pipeline;
pub mod stream;
// The timeline of inputs too big to hold: a row per record, records read again when shown.
pub mod index;
// Following growing inputs: only what they gained is read and placed.
pub mod follow;

pub mod profile;
pub mod templates;

pub mod rules;
// `check` in two passes: only the events a rule can read are held.
pub mod lean;
pub mod suggest;

pub mod report;

#[cfg(feature = "history")]
pub mod history;

#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "tui")]
pub mod tui;
