//! Report: what people, CI and dashboards read. Each output format is one module; none of them reaches
//! back into parsing or rules.
pub mod check;
pub mod ci;
pub mod style;
pub mod templates;
pub mod timeline;
