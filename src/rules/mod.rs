//! Rules: data-driven detection over the correlated timeline.
pub mod expr;
