//! placeholder

#[rustfmt::skip]
pub mod api;
