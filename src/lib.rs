//! diag: read → parse → correlate → rules → report.
pub mod rules;
