//! The `dropline` operator CLI, the in-process demo, and the local runner shared by `make dev`
//! and the tests.

pub mod demo;
pub mod dev;
pub mod feed;
pub mod holds;
pub mod local;
pub mod pipeline;
pub mod preview;
pub mod render;
pub mod sim;
pub mod verify;
