//! Tests of the git source.
