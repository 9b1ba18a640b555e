//! Rules: data-driven detection over the correlated timeline (`rules/*.toml`), findings and incidents.
pub mod expr;
pub mod finding;
