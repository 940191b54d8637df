//! What one chart plots: the metrics, against which axis, with which labels.

use super::axis::Dim;
use crate::points::Point;

/// What a chart plots.
#[derive(Clone, Copy)]
pub(crate) struct Metric {
    /// The series label suffix (`p50`, `req/tick`).
    pub label: &'static str,
    pub get: fn(&Point) -> f64,
}

/// One chart to draw.
pub(crate) struct Spec {
    pub file: String,
    pub title: String,
    pub x: Dim,
    pub metrics: Vec<Metric>,
    pub ylabel: &'static str,
    pub yfmt: fn(f64) -> String,
}
