//! Following growing logs (the TUI's `F`): what one look costs when the inputs have grown, reading
//! everything again (what follow did before) against appending what they gained.
//!
//! The corpus is the mixed one of `check` (service log, Alice's and Bob's tabs); the same simulation
//! then runs on so that all three files gain the lines that come next (later times, requests and
//! replies that span the old end), as a test run still writing does.
//!
//! - `follow/reload`: load the grown files whole and run the rules;
//! - `follow/append_<size>`: place what the files gained on a whole load's timeline (what the TUI's
//!   thread waits for: the reading and the rules run on threads of their own);
//! - `follow/append_<size>_read_rules`: read what the files gained, place it and run the rules again
//!   (over the whole timeline: a window or a request's answer may span the old end).
//!
//! `cargo bench --bench follow`; `DIAG_BENCH_MB=64 cargo bench --bench follow` for a bigger base.

mod common;

use common::{Kind, Sim};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode};
use diag::correlate::{append::append, Options};
use diag::defs::Registry;
use diag::follow::{Grown, Tail};
use diag::pipeline;
use diag::rules::{load::load_rules, run, Selection};
use diag::source;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const KINDS: [Kind; 3] = [
    Kind::CitadelTracing,
    Kind::PlaywrightMcp,
    Kind::ChromeDevtools,
];

/// Run `sim` until its service log has at least `bytes` more, and take what each file gained.
fn gain(sim: &mut Sim, bytes: usize) -> [String; 3] {
    while sim.len(Kind::CitadelTracing) < bytes {
        sim.step();
    }
    KINDS.map(|k| sim.take(k))
}

fn write_all(dir: &Path, texts: &[String; 3]) {
    for (k, t) in KINDS.iter().zip(texts) {
        std::fs::write(dir.join(k.file_name()), t).expect("write a corpus file");
    }
}

fn grow(dir: &Path, base: &[String; 3], extra: &[String; 3]) {
    for ((k, b), e) in KINDS.iter().zip(base).zip(extra) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(k.file_name()))
            .expect("open a corpus file");
        f.set_len(b.len() as u64).expect("cut back");
        drop(f);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join(k.file_name()))
            .expect("open a corpus file");
        f.write_all(e.as_bytes()).expect("append");
    }
}

fn bench(c: &mut Criterion) {
    let reg = Registry::load(None).expect("built-in definitions load");
    let rules = load_rules(None).expect("built-in rules load");
    let sel = Selection::default();
    let opts = Options::default();

    let mut sim = Sim::mixed(7);
    let base = gain(&mut sim, common::bench_bytes(16));
    let extras: Vec<(&str, [String; 3])> = vec![
        ("append_64K", gain(&mut sim, 64_000)),
        ("append_1M", gain(&mut sim, 1_000_000)),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_all(dir.path(), &base);
    let inputs = source::expand(&[dir.path().display().to_string()]).expect("inputs expand");
    let (timeline, _) = pipeline::load(&reg, &inputs, None, &opts).expect("corpus loads");
    let tail = Tail::new(&inputs, &timeline);
    eprintln!(
        "base: {} bytes, {} events",
        base.iter().map(String::len).sum::<usize>(),
        timeline.events.len()
    );

    let mut g = c.benchmark_group("follow");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for (name, extra) in &extras {
        grow(dir.path(), &base, extra);
        g.bench_function("reload_".to_string() + &name["append_".len()..], |b| {
            b.iter(|| {
                let (tl, _) = pipeline::load(&reg, &inputs, None, &opts).expect("loads");
                run(&rules, &sel, tl).findings.len()
            })
        });
        // What the TUI's thread waits for: reading what was gained happens on a thread of its
        // own, placing it here.
        g.bench_function(*name, |b| {
            b.iter_batched(
                || {
                    let tl = timeline.clone();
                    let Grown::Appended(add, _) = tail.read(&reg, &tl.sources) else {
                        panic!("the files grew");
                    };
                    (tl, add)
                },
                // The timeline is handed back: criterion drops it after the timing.
                |(mut tl, add)| {
                    append(&mut tl, add, &reg.entities, &[]);
                    tl
                },
                BatchSize::PerIteration,
            )
        });
        // Reading, placing and the rules (which the TUI runs on a thread of their own).
        g.bench_function(name.to_string() + "_read_rules", |b| {
            b.iter_batched(
                || timeline.clone(),
                |mut tl| {
                    let Grown::Appended(add, _) = tail.read(&reg, &tl.sources) else {
                        panic!("the files grew");
                    };
                    append(&mut tl, add, &reg.entities, &[]);
                    run(&rules, &sel, tl).findings.len()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
