//! Write a generated corpus to disk for scale tests (`benches/scale.sh`).
//!
//! ```text
//! cargo run --release --manifest-path benches/gen/Cargo.toml -- --size 1G --out /tmp/diag-bench [--seed N] [--kind KIND]
//! ```
//!
//! `--size` is the total of all files written (`100M`, `1G`, `512MiB`, bytes). Without `--kind` the
//! corpus is mixed, like a real `diag check` input: `internal-service.log` (compose, ANSI tracing) plus
//! `alice-tab0.playwright.log` and `bob-tab1.devtools.log` over the same span of time. With `--kind`
//! (`citadel-tracing`, `playwright-mcp`, `chrome-devtools`, `tracing-json`) one file of that format.
//! Same seed, same bytes. Prints the files, their sizes and line counts.

#[path = "../../common/mod.rs"]
mod common;

use common::{parse_size, Kind, Sim};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Buffered text per channel before it is written out.
const FLUSH: usize = 1 << 20;

fn usage() -> ! {
    eprintln!("usage: diag-gen --size SIZE --out DIR [--seed N] [--kind citadel-tracing|playwright-mcp|chrome-devtools|tracing-json]");
    std::process::exit(2)
}

fn main() {
    let mut size = None;
    let mut out = None;
    let mut seed = 1u64;
    let mut kind = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--size" => size = Some(parse_size(&val()).unwrap_or_else(|| usage())),
            "--out" => out = Some(PathBuf::from(val())),
            "--seed" => seed = val().parse().unwrap_or_else(|_| usage()),
            "--kind" => kind = Some(Kind::parse(&val()).unwrap_or_else(|| usage())),
            _ => usage(),
        }
    }
    let (Some(size), Some(out)) = (size, out) else {
        usage()
    };
    std::fs::create_dir_all(&out).expect("create the output directory");
    let kinds: Vec<Kind> = match kind {
        Some(k) => vec![k],
        None => vec![
            Kind::CitadelTracing,
            Kind::PlaywrightMcp,
            Kind::ChromeDevtools,
        ],
    };
    let mut sim = match kind {
        Some(k) => Sim::single(k, seed),
        None => Sim::mixed(seed),
    };
    let mut files: Vec<BufWriter<File>> = kinds
        .iter()
        .map(|k| {
            let f = File::create(out.join(k.file_name())).expect("create an output file");
            BufWriter::with_capacity(FLUSH, f)
        })
        .collect();
    let mut written = vec![0u64; kinds.len()];
    loop {
        sim.step();
        let pending: u64 = kinds.iter().map(|k| sim.len(*k) as u64).sum();
        let total = written.iter().sum::<u64>() + pending;
        let done = total >= size;
        for (i, k) in kinds.iter().enumerate() {
            if done || sim.len(*k) >= FLUSH {
                let text = sim.take(*k);
                files[i]
                    .write_all(text.as_bytes())
                    .expect("write a log file");
                written[i] += text.len() as u64;
            }
        }
        if done {
            break;
        }
    }
    for (i, k) in kinds.iter().enumerate() {
        files[i].flush().expect("flush a log file");
        println!(
            "{}\t{} bytes\t{} lines",
            out.join(k.file_name()).display(),
            written[i],
            sim.lines(*k)
        );
    }
}
