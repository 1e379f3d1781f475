//! An order's JSON as it fits DynamoDB's 400 KB item limit, whatever the order's size, and as
//! it costs the fewest write units: text when under one write unit (1 KB), deflated otherwise
//! (a 5 KB order shipped with its timeline and routing explanation deflates to under 2 KB, and
//! its item is rewritten some 20 times: a third of the units), and deflated in parts of their
//! own items when even that is too large (a 50,000-line order). `dropline order show` reads
//! any of them.

use dropline_app::ports::{PortError, PortResult};

/// Bodies up to this size are stored as text (deflating one smaller saves no write unit).
pub const INLINE_BYTES: usize = 1024;
/// A deflated body up to this size stays in the order's item (the rest of the item is small).
pub const COMPRESSED_IN_ITEM_BYTES: usize = 300 * 1024;
/// Each part item carries at most this much of a deflated body.
pub const PART_BYTES: usize = 350 * 1024;
/// The most a body may inflate to (a guard against a corrupt or hostile item).
const MAX_INFLATED_BYTES: usize = 256 * 1024 * 1024;

/// How an order's JSON is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBody {
    /// `body`: the JSON as text.
    Inline(String),
    /// `body_z`: the JSON deflated, in the item.
    Compressed(Vec<u8>),
    /// `body_parts` items of `body_z` each, in order.
    Parts(Vec<Vec<u8>>),
}

impl StoredBody {
    /// The storage for `json`.
    pub fn encode(json: String) -> StoredBody {
        if json.len() <= INLINE_BYTES {
            return StoredBody::Inline(json);
        }
        let z = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6);
        if z.len() <= COMPRESSED_IN_ITEM_BYTES {
            return StoredBody::Compressed(z);
        }
        StoredBody::Parts(z.chunks(PART_BYTES).map(<[u8]>::to_vec).collect())
    }

    /// The JSON back from a deflated body (a whole one, or its parts joined).
    pub fn inflate(z: &[u8]) -> PortResult<String> {
        let raw = miniz_oxide::inflate::decompress_to_vec_with_limit(z, MAX_INFLATED_BYTES)
            .map_err(|e| PortError::Permanent(format!("order body does not inflate: {e:?}")))?;
        String::from_utf8(raw).map_err(|e| PortError::Permanent(format!("order body is not UTF-8: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_json(lines: usize) -> String {
        let lines: Vec<serde_json::Value> = (0..lines)
            .map(|i| serde_json::json!({"line_id": i.to_string(), "sku": format!("SKU-{i:06}"), "title": "Classic Tee", "quantity": 1, "unit_price": "24.00"}))
            .collect();
        serde_json::json!({"id": "o_1", "lines": lines}).to_string()
    }

    #[test]
    fn small_bodies_stay_text_large_ones_deflate_and_huge_ones_split_and_all_come_back() {
        let small = order_json(3);
        assert_eq!(StoredBody::encode(small.clone()), StoredBody::Inline(small));
        let large = order_json(2_500);
        assert!(large.len() > 200_000, "{}", large.len());
        match StoredBody::encode(large.clone()) {
            StoredBody::Compressed(z) => {
                assert!(z.len() < COMPRESSED_IN_ITEM_BYTES);
                assert_eq!(StoredBody::inflate(&z).expect("inflate"), large);
            }
            other => panic!("a 2,500-line order deflates into its item: {other:?}"),
        }
        // Incompressible (random-looking) text past the item limit goes to parts.
        let mut noise = String::new();
        let mut x: u64 = 1;
        while noise.len() < 900_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            noise.push_str(&format!("{x:016x}"));
        }
        let huge = serde_json::json!({"id": "o_2", "note": noise}).to_string();
        match StoredBody::encode(huge.clone()) {
            StoredBody::Parts(parts) => {
                assert!(parts.len() >= 2 && parts.iter().all(|p| p.len() <= PART_BYTES));
                assert_eq!(StoredBody::inflate(&parts.concat()).expect("inflate"), huge);
            }
            other => panic!("parts expected, got {} bytes otherwise", format!("{other:?}").len()),
        }
        assert!(StoredBody::inflate(b"not deflate").is_err());
    }
}
