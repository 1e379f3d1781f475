//! The logic the `dropline` commands share with the tests: working held orders, feeds, catalog
//! checks, route previews and rendering. The command groups themselves are in the binary's
//! `commands/`; the demo and `make dev` live in `dropline-local`.

pub use dropline_domain::feed;
pub mod holds;
pub mod preview;
pub mod preview_inputs;
pub mod render;
pub mod verify;
