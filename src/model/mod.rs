//! Model: the data types every stage passes on (events, sources, the timeline). Data only: no parsing,
//! no loading, no correlation; every other module may use it, it uses none of them.

pub mod event;
pub mod source;
pub mod timeline;

pub use event::{thin_vec, CidRef, Event, Level, RawTime, SourceId, ThinVec, TsQuality};
pub use source::{ClockOffset, Detection, ParseStats, ReadStats, Role, SourceInfo};
pub use timeline::{
    AnchorLink, Axis, CidDirectory, CidShape, Resolution, Sparse, Timeline, Unread,
};
