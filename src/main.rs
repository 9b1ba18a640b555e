//! The `diag` binary: a thin front end over the library.
fn main() {
    std::process::exit(diag::cli::run());
}
