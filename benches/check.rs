//! `diag check` engine throughput on a generated mixed corpus: a ~16 MB compose service log (ANSI
//! tracing, two containers) plus Alice's Playwright-MCP dump and Bob's DevTools dump over the same span.
//! The files are written to a temporary directory once and read from the page cache, as `diag check`
//! reads them. Throughput is the corpus size in all three measurements:
//!
//! - `check/load`: `pipeline::load` (read, detect, parse in parallel, correlate);
//! - `check/rules`: `rules::run` with every built-in rule over the loaded timeline;
//! - `check/end_to_end`: load, rules and the text report (to a sink), i.e. `diag check` minus process
//!   start.
//!
//! `cargo bench --bench check`; `DIAG_BENCH_MB=4 cargo bench --bench check` for a smaller service log.

mod common;

use common::Corpus;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use diag::correlate::Options;
use diag::defs::Registry;
use diag::pipeline;
use diag::report::{style::Style, text};
use diag::rules::{load::load_rules, run, Selection};
use diag::source;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let reg = Registry::load(None).expect("built-in definitions load");
    let rules = load_rules(None).expect("built-in rules load");
    let sel = Selection::default();
    let opts = Options::default();

    let corpus = Corpus::generate(common::bench_bytes(16), 7);
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, text) in corpus.files() {
        std::fs::write(dir.path().join(name), text).expect("write a corpus file");
    }
    let inputs = source::expand(&[dir.path().display().to_string()]).expect("inputs expand");
    let bytes = corpus.len() as u64;
    drop(corpus);

    let load = || {
        pipeline::load(&reg, &inputs, None, &opts)
            .expect("corpus loads")
            .0
    };
    let timeline = load();
    let analysis = run(&rules, &sel, timeline.clone());
    eprintln!(
        "corpus: {bytes} bytes in {} files, {} sources, {} events, {} findings, {} incidents",
        inputs.len(),
        timeline.sources.len(),
        timeline.events.len(),
        analysis.findings.len(),
        analysis.incidents.len()
    );
    drop(analysis);

    let mut g = c.benchmark_group("check");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        // A run of the whole engine takes about 1.7 s: 10 samples need 20 s.
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes(bytes));
    g.bench_function("load", |b| b.iter_with_large_drop(load));
    g.bench_function("rules", |b| {
        b.iter_batched(
            || timeline.clone(),
            |tl| run(&rules, &sel, tl),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("end_to_end", |b| {
        b.iter_with_large_drop(|| {
            let a = run(&rules, &sel, load());
            text::write_check(&mut std::io::sink(), &a, None, Style::detect(false))
                .expect("report writes");
            a
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
