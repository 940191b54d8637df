//! Widgets shared by the screens, one per file: the per-transport comparison table (dashboard and
//! results viewer show the same columns), the latency histogram, the percentile-spectrum chart,
//! block-character bars, the help overlay, and the number formatting they all use.

pub mod bars;
pub mod fmt;
pub mod help;
pub mod histogram;
pub mod spectrum;
pub mod table;
