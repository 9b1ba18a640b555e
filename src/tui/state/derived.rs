//! Indexes derived from a load, rebuilt whenever one is installed: never edited by keys.

use super::super::histogram::Histogram;
use crate::model::Level;
use crate::rules::finding::{Analysis, Severity};

/// What the views look up often, computed once per load.
#[derive(Debug, Clone)]
pub struct Derived {
    /// Evidence events of all findings, sorted.
    pub evidence: Vec<usize>,
    /// Axis position and severity of each finding's first evidence (overview marks).
    pub finding_marks: Vec<(f64, Severity)>,
    /// Counts of the filtered events over the axis (rebuilt when the filters change).
    pub hist: Histogram,
    /// (event index, index into `Timeline::anchors` of a link that involves it), sorted: two
    /// entries a link (a map of lists took about 60 bytes an event: 27 MB at 1 GB).
    pub anchors_of: Vec<(usize, usize)>,
    /// Width of the source column.
    pub label_width: usize,
}

impl Default for Derived {
    fn default() -> Self {
        Derived {
            evidence: Vec::new(),
            finding_marks: Vec::new(),
            hist: Histogram::default(),
            anchors_of: Vec::new(),
            label_width: 6,
        }
    }
}

impl Derived {
    /// The links of `Timeline::anchors` that involve event `i`, in order.
    pub fn anchors_of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let from = self.anchors_of.partition_point(|&(e, _)| e < i);
        let rest = self.anchors_of.get(from..).unwrap_or_default();
        rest.iter()
            .take_while(move |&&(e, _)| e == i)
            .map(|&(_, k)| k)
    }

    /// The indexes of an analysis of `n` events; `rows` are the events the filters show, `at` gives
    /// an event's position and level.
    pub fn build(
        a: &Analysis,
        n: usize,
        rows: &super::Rows,
        at: &dyn Fn(usize) -> Option<(f64, Option<Level>)>,
    ) -> Derived {
        let tl = &a.timeline;
        let label_width = tl
            .sources
            .iter()
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(6)
            .clamp(4, 16);
        let mut anchors_of: Vec<(usize, usize)> = (tl.anchors.iter().enumerate())
            .flat_map(|(k, an)| [(an.a, k), (an.b, k)])
            .collect();
        anchors_of.sort_unstable();
        anchors_of.dedup();
        let mut evidence: Vec<usize> = a
            .findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(|e| e.event))
            .filter(|&i| i < n)
            .collect();
        evidence.sort_unstable();
        evidence.dedup();
        let finding_marks = a
            .findings
            .iter()
            .filter_map(|f| {
                let e = f.evidence.first()?;
                let (pos, _) = at(e.event)?;
                Some((pos, f.severity))
            })
            .collect();
        Derived {
            evidence,
            finding_marks,
            hist: Histogram::build(n, rows, at),
            anchors_of,
            label_width,
        }
    }
}
