//! The status page for people at `/`: placeholder.
