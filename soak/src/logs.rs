//! Log output scanned for the run's personal-data canaries as each line is written (JSON, as
//! the functions log in production), keeping only offending lines.

use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone)]
pub struct LogScanner {
    inner: Arc<Inner>,
}

struct Inner {
    canaries: Vec<String>,
    hits: Mutex<Vec<String>>,
    lines: Mutex<u64>,
}

impl LogScanner {
    pub fn new(canaries: Vec<String>) -> Self {
        Self { inner: Arc::new(Inner { canaries, hits: Mutex::default(), lines: Mutex::default() }) }
    }
    /// Offending lines (at most 20 kept).
    pub fn hits(&self) -> Vec<String> {
        crate::faults::lock(&self.inner.hits).clone()
    }
    pub fn lines(&self) -> u64 {
        *crate::faults::lock(&self.inner.lines)
    }
}

pub struct LineWriter {
    buf: Vec<u8>,
    inner: Arc<Inner>,
}

impl Write for LineWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        *crate::faults::lock(&self.inner.lines) += text.lines().count() as u64;
        if self.inner.canaries.iter().any(|c| text.contains(c.as_str())) {
            let mut hits = crate::faults::lock(&self.inner.hits);
            if hits.len() < 20 {
                hits.push(text.trim_end().to_string());
            }
        }
    }
}

impl<'a> MakeWriter<'a> for LogScanner {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> LineWriter {
        LineWriter { buf: Vec::with_capacity(256), inner: self.inner.clone() }
    }
}

/// A JSON subscriber writing to `scanner`, for the current thread while the guard lives.
pub fn capture(scanner: &LogScanner) -> tracing::subscriber::DefaultGuard {
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(scanner.clone())
        .finish();
    tracing::subscriber::set_default(subscriber)
}
