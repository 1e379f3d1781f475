//! The `dropline` operator CLI: one module per command group. The demo and `make dev` live in
//! `dropline-local`.

pub mod feed;
pub mod holds;
pub mod preview;
pub mod render;
pub mod verify;
