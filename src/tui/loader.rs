//! Loader: reads, correlates and analyses the inputs on a background thread so that the UI keeps
//! answering keys, reports the bytes read as it goes, and notices when followed files grow.

use super::state::Loaded;
use crate::correlate;
use crate::correlate::append::Addition;
use crate::defs::Registry;
use crate::follow::{Grown, Tail};
use crate::model::{SourceInfo, Timeline};
use crate::pipeline;
use crate::rules::finding::Analysis;
use crate::rules::load::Rule;
use crate::rules::Selection;
use crate::source::{Input, Skipped};
use crate::templates::Templates;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::SystemTime;

/// Inputs at least this large (all together) are indexed, not held: records are read again from
/// their files when shown (see [`crate::index`]). Below it, holding them costs little and keeps
/// following by appending.
pub const INDEX_ABOVE: u64 = 128 << 20;

/// How much of each input the first screen of a big load shows before the whole is read: about a
/// quarter of a second of parsing on one core.
pub const PREVIEW_BYTES: u64 = 2 << 20;

/// Everything needed to (re)load the same inputs.
#[derive(Debug)]
pub struct Job {
    /// Format definitions.
    pub registry: Registry,
    /// Expanded inputs.
    pub inputs: Vec<Input>,
    /// Forced format name.
    pub forced: Option<String>,
    /// Correlation options.
    pub options: correlate::Options,
    /// Rules to run (built-in plus `--rules DIR`).
    pub rules: Vec<Rule>,
    /// What expanding the arguments left out (inputs named twice, symlink loops, unreadable
    /// folders): shown with the load's other problems on every (re)load.
    pub skipped: Skipped,
    /// When an input is larger than this, the first load shows the first this many bytes of each
    /// input at once (a preview, without rules) and then the whole; `0`: no preview.
    pub preview_bytes: u64,
    /// When the inputs together are at least this large (and can be read again: files, not gzip),
    /// the records are indexed, not held; `u64::MAX`: never.
    pub index_above: u64,
}

impl Job {
    /// Whether the first load starts with a preview: some file input is larger than the preview.
    pub fn wants_preview(&self) -> bool {
        self.preview_bytes > 0
            && self
                .inputs
                .iter()
                .filter_map(|i| i.path.as_ref())
                .filter_map(|p| std::fs::metadata(p).ok())
                .any(|m| m.len() > self.preview_bytes)
    }

    /// Whether the records are indexed rather than held ([`Job::index_above`]): the inputs are big
    /// enough and every one is a plain file (gzip cannot be read from the middle).
    pub fn wants_index(&self) -> bool {
        crate::stream::can_stream(&self.inputs)
            && self.input_bytes() >= self.index_above
            && self
                .inputs
                .iter()
                .filter_map(|i| i.path.as_deref())
                .all(crate::index::seekable)
    }

    /// Bytes on disk of the inputs that are files (the denominator of the progress bar).
    pub fn input_bytes(&self) -> u64 {
        self.inputs
            .iter()
            .filter_map(|i| i.path.as_ref())
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }
}

/// Run the rules over a timeline (by value: a million events are not copied for the rules).
pub fn analyze(timeline: Timeline, rules: &[Rule]) -> Analysis {
    crate::rules::run(rules, &Selection::default(), timeline)
}

/// Load a job to the end (on whatever thread calls it).
pub fn load(job: &Job, progress: &AtomicU64) -> Result<Loaded, String> {
    load_with(job, progress, false)
}

/// Load a job, with the events' templates when `templates` (a reload while a template filter is in
/// force computes them here, not on the UI thread); indexed when the job wants it.
pub fn load_with(job: &Job, progress: &AtomicU64, templates: bool) -> Result<Loaded, String> {
    if job.wants_index() {
        if let Some(loaded) = load_indexed(job, progress)? {
            return Ok(loaded);
        }
    }
    load_opts(job, &job.options, progress, templates, None)
}

/// Load a job as an index: pass 1 notes every record's row (and places the sources), pass 2 reads
/// only what the rules read, as a two-pass `check` does; the records are read again when shown.
/// `None` when the rules cannot run in two passes (a pattern that matches an empty line): the
/// caller holds the records instead.
pub fn load_indexed(job: &Job, progress: &AtomicU64) -> Result<Option<Loaded>, String> {
    let rules: Vec<&Rule> = job.rules.iter().collect();
    let Some(keep) = crate::lean::Keep::for_rules(&rules) else {
        return Ok(None);
    };
    let mut plan = crate::stream::plan_marked(
        &job.registry,
        &job.inputs,
        job.forced.as_deref(),
        &job.options,
        progress,
        Some(&keep),
        true,
    )
    .map_err(|e| e.to_string())?;
    let index = match plan.index(&job.registry) {
        Some(Ok(ix)) => ix,
        // Not indexable after all (a file turned into gzip, too many records): held instead, which
        // says what is wrong with the inputs, if anything.
        Some(Err(_)) | None => return Ok(None),
    };
    let mut problems = std::mem::take(&mut plan.problems);
    problems.add_skipped(&job.skipped, &mut plan.timeline);
    // The rules do not read the anchor links; the TUI jumps along them.
    let anchors = plan.timeline.anchors.clone();
    let lean = crate::lean::fill(&job.registry, plan, &keep, crate::lean::Numbered::Every)
        .map_err(|e| e.to_string())?;
    let profile = crate::profile::Profile::builtin().unwrap_or_default();
    let prepared = crate::rules::Prepared {
        templates: lean.templates,
        online: lean.online,
        late: lean.late,
    };
    let (mut analysis, _) = crate::rules::run_prepared(
        &job.rules,
        &Selection::default(),
        lean.timeline,
        prepared,
        &profile,
    );
    analysis.timeline.anchors = anchors;
    // The passes' threads freed their buffers in arenas the allocator keeps: give them back (the
    // TUI lives on after the load).
    crate::memory::trim();
    let mut problems = problems_list(problems);
    if lean.extra > 0 {
        problems.push(format!(
            "{} records were written to the inputs after they were first read; they are left out (R reads everything again)",
            lean.extra
        ));
    }
    Ok(Some(Loaded {
        templates: analysis.templates.take(),
        analysis,
        index: Some(Arc::new(index)),
        preview: false,
        rules_error: None,
        problems,
    }))
}

/// What a load's problems say, one line each.
fn problems_list(problems: crate::pipeline::Problems) -> Vec<String> {
    problems
        .refused
        .into_iter()
        .chain(
            problems
                .incomplete
                .into_iter()
                .map(|m| format!("incomplete: {m}")),
        )
        .chain(problems.warnings)
        .collect()
}

/// The first [`Job::preview_bytes`] of each input, correlated but without rules: rules over part of a
/// log would report what the rest may answer (a milestone not reached yet, a request not answered).
pub fn load_preview(job: &Job, progress: &AtomicU64) -> Result<Loaded, String> {
    let opts = correlate::Options {
        head_bytes: job.preview_bytes,
        ..job.options.clone()
    };
    let why = format!(
        "this is a preview of the first {} MB of each input; the rules run once all of it is read",
        job.preview_bytes.div_ceil(1 << 20)
    );
    load_opts(job, &opts, progress, false, Some(why))
}

fn load_opts(
    job: &Job,
    opts: &correlate::Options,
    progress: &AtomicU64,
    templates: bool,
    preview: Option<String>,
) -> Result<Loaded, String> {
    let (mut timeline, mut problems) = pipeline::load_with_progress(
        &job.registry,
        &job.inputs,
        job.forced.as_deref(),
        opts,
        progress,
    )
    .map_err(|e| e.to_string())?;
    problems.add_skipped(&job.skipped, &mut timeline);
    let rules: &[Rule] = if preview.is_some() { &[] } else { &job.rules };
    let mut analysis = analyze(timeline, rules);
    // The rule engine computed every event's template already: hand them on rather than mask every
    // message again when `t` is first pressed.
    let computed = analysis.templates.take();
    Ok(Loaded {
        templates: computed.or_else(|| templates.then(|| Templates::build(&analysis.timeline))),
        analysis,
        index: None,
        preview: preview.is_some(),
        rules_error: preview,
        problems: problems_list(problems),
    })
}

/// The analysis shown, grown by what followed inputs gained: the new records placed after the
/// others, and the rules run again over the whole (a window or a request's answer may span the old
/// end); with the events' templates when `templates`. [`placed`] and [`Judging`] do the same in
/// two steps, the rules on a thread of their own.
pub fn appended(job: &Job, analysis: Analysis, add: Addition, templates: bool) -> Loaded {
    let placed = placed(job, analysis, add, false);
    let verdict = crate::rules::judge(&job.rules, &Selection::default(), &placed.analysis.timeline);
    judged(placed.analysis, verdict, templates)
}

/// The analysis shown with the new records placed, its findings the last run's (their evidence
/// moved with the records, evidence read again dropped) until the rules have run again; with the
/// events' templates when `templates`.
pub fn placed(job: &Job, analysis: Analysis, add: Addition, templates: bool) -> Loaded {
    let Analysis {
        mut timeline,
        mut findings,
        incidents,
        rules,
        templates: _,
    } = analysis;
    let done = correlate::append::append(
        &mut timeline,
        add,
        &job.registry.entities,
        &job.options.aliases,
    );
    for f in &mut findings {
        f.evidence.retain_mut(|e| match done.moves.get(e.event) {
            Some(i) => {
                e.event = i;
                true
            }
            None => false,
        });
    }
    let analysis = Analysis {
        timeline,
        findings,
        incidents,
        rules,
        templates: None,
    };
    Loaded {
        templates: templates.then(|| Templates::build(&analysis.timeline)),
        analysis,
        index: None,
        preview: false,
        rules_error: None,
        problems: Vec::new(),
    }
}

/// `analysis` with the rules' `verdict` on its timeline; with the events' templates when
/// `templates` (the verdict has them).
pub fn judged(analysis: Analysis, verdict: crate::rules::Verdict, templates: bool) -> Loaded {
    let mut analysis = verdict.with(analysis.timeline);
    let computed = analysis.templates.take();
    Loaded {
        templates: computed.or_else(|| templates.then(|| Templates::build(&analysis.timeline))),
        analysis,
        index: None,
        preview: false,
        rules_error: None,
        problems: Vec::new(),
    }
}

/// The rules running again over the analysis shown, on a thread of their own, while the TUI keeps
/// answering keys.
#[derive(Debug)]
pub struct Judging {
    rx: Receiver<crate::rules::Verdict>,
}

impl Judging {
    /// Start running the job's rules over `analysis`'s timeline.
    pub fn start(job: Arc<Job>, analysis: Arc<Analysis>) -> Judging {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("diag-rules".into())
            .spawn(move || {
                let verdict =
                    crate::rules::judge(&job.rules, &Selection::default(), &analysis.timeline);
                // Let go of the analysis first: the TUI takes it back when the verdict arrives.
                drop(analysis);
                let _ = tx.send(verdict);
            });
        if let Err(e) = spawned {
            eprintln!("diag: cannot start the rules thread: {e}");
        }
        Judging { rx }
    }

    /// The verdict once it is there; `Err` when the thread died without one.
    pub fn poll(&self) -> Option<Result<crate::rules::Verdict, String>> {
        match self.rx.try_recv() {
            Ok(v) => Some(Ok(v)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(
                "the rules stopped unexpectedly (an internal error)".into(),
            )),
        }
    }
}

/// A look at what followed inputs gained, on its own thread (reading and parsing a big append
/// takes a while; placing it and the rules run on the UI's thread, which holds the timeline).
#[derive(Debug)]
pub struct Reading {
    rx: Receiver<Grown>,
}

impl Reading {
    /// Start reading what the inputs of `tail` gained, for a timeline with these `sources`.
    pub fn start(job: Arc<Job>, tail: Tail, sources: Vec<SourceInfo>) -> Reading {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("diag-follow".into())
            .spawn(move || {
                let _ = tx.send(tail.read(&job.registry, &sources));
            });
        if let Err(e) = spawned {
            eprintln!("diag: cannot start the follow thread: {e}");
        }
        Reading { rx }
    }

    /// What it found, once it has finished (a thread that died reads as a change to load whole).
    pub fn poll(&self) -> Option<Grown> {
        match self.rx.try_recv() {
            Ok(g) => Some(g),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Grown::Reload(
                "the follow thread stopped unexpectedly (an internal error)".into(),
            )),
        }
    }
}

/// A load running on its own thread.
#[derive(Debug)]
pub struct Loader {
    rx: Receiver<Result<Loaded, String>>,
    /// Bytes read so far.
    pub progress: Arc<AtomicU64>,
    /// Bytes in all file inputs (0 when unknown).
    pub total: u64,
    // Results still to come: two when a preview comes first.
    left: usize,
}

impl Loader {
    /// Start the first load: a preview first when the job wants one ([`Job::wants_preview`]), then
    /// the whole; [`Loader::poll`] gives each in turn.
    pub fn start(job: Arc<Job>) -> Loader {
        let preview = job.wants_preview();
        Loader::spawn(job, false, preview)
    }

    /// Start loading, with the events' templates when `templates`.
    pub fn start_with(job: Arc<Job>, templates: bool) -> Loader {
        Loader::spawn(job, templates, false)
    }

    fn spawn(job: Arc<Job>, templates: bool, preview: bool) -> Loader {
        let (tx, rx) = mpsc::channel();
        let progress = Arc::new(AtomicU64::new(0));
        let total = job.input_bytes();
        let p = progress.clone();
        let spawned = std::thread::Builder::new()
            .name("diag-loader".into())
            .spawn(move || {
                if preview {
                    // Its bytes are not the progress of the whole.
                    let _ = tx.send(load_preview(&job, &AtomicU64::new(0)));
                }
                let _ = tx.send(load_with(&job, &p, templates));
            });
        if let Err(e) = spawned {
            // The receiver reports the dead channel; say why here.
            eprintln!("diag: cannot start the loader thread: {e}");
        }
        Loader {
            rx,
            progress,
            total,
            left: 1 + usize::from(preview),
        }
    }

    /// The next result, once there is one (a preview, then the whole, when a preview was asked for).
    pub fn poll(&mut self) -> Option<Result<Loaded, String>> {
        if self.left == 0 {
            return None;
        }
        let r = match self.rx.try_recv() {
            Ok(r) => r,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => {
                // Nothing more can come.
                self.left = 1;
                Err("the loader stopped unexpectedly (an internal error)".into())
            }
        };
        self.left -= 1;
        Some(r)
    }

    /// Whether every result has been taken: a failed preview still has the whole to come.
    pub fn done(&self) -> bool {
        self.left == 0
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }
}

/// Sizes and modification times of the file inputs, to notice growth.
#[derive(Debug, Default)]
pub struct Watch {
    paths: Vec<PathBuf>,
    stamps: Vec<Option<(u64, SystemTime)>>,
}

fn stamp(p: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.len(), m.modified().ok()?))
}

impl Watch {
    /// Take the current stamps of the file inputs.
    pub fn new(inputs: &[Input]) -> Watch {
        let paths: Vec<PathBuf> = inputs.iter().filter_map(|i| i.path.clone()).collect();
        let stamps = paths.iter().map(|p| stamp(p)).collect();
        Watch { paths, stamps }
    }

    /// Whether a file changed since the last call (and remember the new stamps).
    pub fn changed(&mut self) -> bool {
        let now: Vec<_> = self.paths.iter().map(|p| stamp(p)).collect();
        let changed = now != self.stamps;
        self.stamps = now;
        changed
    }
}
