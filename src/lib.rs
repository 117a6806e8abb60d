//! Crossdock gateway (placeholder while the parser lands).
