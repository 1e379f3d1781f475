//! A queue message body, as every SQS consumer reads it.
#![no_main]
use dropline_domain::wire::messages::WorkMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = WorkMessage::parse(text);
    }
});
