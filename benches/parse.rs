//! Parse throughput per format: detection, ANSI and collector stripping, record cutting and entity
//! extraction over ~8 MB of generated text, read from memory (`pipeline::parse_reader` over a byte
//! slice) so the disk is not measured. Two groups over the same inputs: `parse_bytes` (MiB/s) and
//! `parse_lines` (lines/s).
//!
//! `cargo bench --bench parse`; `DIAG_BENCH_MB=2 cargo bench --bench parse` for a quicker run.

mod common;

use common::Kind;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use diag::defs::Registry;
use diag::pipeline::{parse_reader, ParsedInput};
use diag::source;
use std::io::Cursor;
use std::time::Duration;

struct Input {
    kind: Kind,
    text: &'static [u8],
    lines: u64,
}

fn inputs() -> Vec<Input> {
    Kind::ALL
        .iter()
        .map(|&kind| {
            let text = common::generate(kind, common::bench_bytes(8), 42);
            let lines = text.bytes().filter(|&b| b == b'\n').count() as u64;
            // Leaked once so every iteration reads the same bytes without copying them.
            let text: &'static [u8] = Box::leak(text.into_bytes().into_boxed_slice());
            Input { kind, text, lines }
        })
        .collect()
}

fn parse(reg: &Registry, text: &'static [u8]) -> ParsedInput {
    let reader =
        source::from_reader(Box::new(Cursor::new(text)), "bench").expect("in-memory reader opens");
    parse_reader(reg, reader, "bench", "bench", None, None, None).expect("generated input parses")
}

/// The generator must produce what it claims: the right format, every line accounted for.
fn check(reg: &Registry, input: &Input) {
    let p = parse(reg, input.text);
    let (info, _) = p.sources.first().expect("at least one source");
    assert_eq!(
        info.detection.format,
        input.kind.format(),
        "generated {} input is detected as {}",
        input.kind.format(),
        info.detection.format
    );
    let unparsed: u64 = p.sources.iter().map(|(i, _)| i.parse.unparsed).sum();
    assert_eq!(unparsed, 0, "{}: unparsed lines", input.kind.format());
    let events: usize = p.sources.iter().map(|(i, _)| i.events).sum();
    eprintln!(
        "{:<16} {:>9} bytes {:>7} lines {:>7} events",
        input.kind.format(),
        input.text.len(),
        input.lines,
        events
    );
}

fn bench(c: &mut Criterion) {
    let reg = Registry::load(None).expect("built-in definitions load");
    let inputs = inputs();
    for input in &inputs {
        check(&reg, input);
    }
    for (group, lines) in [("parse_bytes", false), ("parse_lines", true)] {
        let mut g = c.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        for input in &inputs {
            g.throughput(if lines {
                Throughput::Elements(input.lines)
            } else {
                Throughput::Bytes(input.text.len() as u64)
            });
            g.bench_function(input.kind.format(), |b| {
                b.iter_with_large_drop(|| parse(&reg, input.text))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
