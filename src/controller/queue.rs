//! Per-resource work queue (being written).
