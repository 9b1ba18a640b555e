//! The gz reader and the line reader: any bytes (gzip or not) read to their end or to a counted error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = diag::source::from_reader(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz")
    else {
        return;
    };
    let mut n = 0u64;
    while let Some(line) = r.next_line() {
        assert!(line.len() <= diag::source::MAX_LINE + 3);
        n += 1;
    }
    assert_eq!(n, r.stats.lines);
});
