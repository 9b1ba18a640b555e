//! The condition language: parse any text; evaluate what parses against a few typed identifiers.
#![no_main]
use diag::rules::expr::{parse, Value};
use libfuzzer_sys::fuzz_target;

fn lookup(name: &str) -> Option<Value> {
    Some(match name {
        "n" => Value::Int(3),
        "big" => Value::Int(i128::from(u64::MAX)),
        "neg" => Value::Int(i128::MIN),
        "f" => Value::Float(f64::NAN),
        "s" => Value::Str("12 abc".into()),
        "b" => Value::Bool(true),
        "z" => Value::Null,
        _ => return None,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = parse(src) {
        let _ = e.eval(&lookup);
        let _ = e.matches(&lookup);
        let _ = e.identifiers();
    }
});
