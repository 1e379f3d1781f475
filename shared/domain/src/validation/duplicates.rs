//! Probable duplicates: the same customer (by normalized email, or by normalized address)
//! ordering the same items within a window under another order id. The store finds candidates
//! through indexes keyed by these fingerprints (HMAC-SHA256 under a secret key: no email or
//! address in an index key, and none recoverable by hashing a list of addresses); this module
//! decides. Validation computes them and the order keeps them (`OrderRecord::customer_keys`), so
//! only validation holds the key.

use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::OrderStatus;
use crate::order::{Address, CanonicalOrder};
use crate::primitives::ids::OrderId;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The secret the customer fingerprints are keyed with (SSM `fingerprints`). Changing it makes
/// earlier orders unrecognizable as duplicates of later ones (for the duplicate window).
#[derive(Clone)]
pub struct FingerprintKey(Vec<u8>);

impl FingerprintKey {
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self(secret.as_ref().to_vec())
    }
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(..)")
    }
}

pub use crate::primitives::customer_key::CustomerKey;

fn fingerprint(kind: &str, normalized: &str) -> String {
    let digest = Sha256::digest(format!("dropline:{kind}:{normalized}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn keyed(key: &FingerprintKey, kind: &str, normalized: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail; the fallback keeps it total.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.0) else {
        return fingerprint(kind, normalized);
    };
    mac.update(format!("dropline:{kind}:{normalized}").as_bytes());
    mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// `Jane.Doe+shop@GMail.com` -> `janedoe@gmail.com`: case, spaces and `+tags` never make
/// another customer; dots don't either where the provider ignores them (Gmail).
pub fn normalize_email(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" { "gmail.com" } else { domain };
    let local = if domain == "gmail.com" { local.replace('.', "") } else { local.to_string() };
    Some(format!("{local}@{domain}"))
}

/// Country, postal code and street lines, lower case, punctuation and spacing dropped, common
/// street words abbreviated: `12 Main Street, Apt 4` and `12 main st apt 4` are one address.
/// The name is left out: it is spelled differently more often than the address.
pub fn normalize_address(a: &Address) -> Option<String> {
    let words = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                match w {
                    "street" => "st",
                    "avenue" => "ave",
                    "road" => "rd",
                    "drive" => "dr",
                    "boulevard" => "blvd",
                    "lane" => "ln",
                    "court" => "ct",
                    "place" => "pl",
                    "apartment" => "apt",
                    "suite" => "ste",
                    "strasse" | "straße" => "str",
                    other => other,
                }
                .to_string()
            })
            .collect()
    };
    let street: Vec<String> = words(&a.line1).into_iter().chain(words(&a.line2)).collect();
    if street.is_empty() || a.country.trim().is_empty() {
        return None;
    }
    let postal: String = a.postal_code.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_uppercase();
    Some(format!("{}|{}|{}", a.country.trim().to_uppercase(), postal, street.join(" ")))
}

/// The customer's keys for the duplicate indexes, keyed with `key`.
pub fn customer_keys(order: &CanonicalOrder, key: &FingerprintKey) -> Vec<CustomerKey> {
    let mut out = Vec::new();
    if let Some(e) = order.contact.email.as_deref().and_then(normalize_email) {
        out.push(CustomerKey::Email(keyed(key, "email", &e)));
    }
    if let Some(a) = order.shipping_address.as_ref().and_then(normalize_address) {
        out.push(CustomerKey::Address(keyed(key, "address", &a)));
    }
    out
}

/// What was ordered, independent of line order and ids: the SKUs (or titles) with quantities.
pub fn items_key(order: &CanonicalOrder) -> String {
    let mut items: Vec<String> = order
        .lines
        .iter()
        .map(|l| {
            let what = l.sku.as_ref().map(|s| s.as_str().to_string()).unwrap_or_else(|| l.title.to_lowercase());
            format!("{what}\u{1f}{}", l.quantity)
        })
        .collect();
    items.sort();
    fingerprint("items", &items.join("\u{1e}"))
}

/// An order found through a duplicate index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorOrder {
    pub id: OrderId,
    /// The store's order name (`#1001`).
    pub name: String,
    pub placed_at: DateTime<Utc>,
    pub status: OrderStatus,
    pub items_key: String,
}

impl PriorOrder {
    pub fn of(r: &crate::order::OrderRecord) -> Self {
        PriorOrder {
            id: r.id.clone(),
            name: r.order.name.clone(),
            placed_at: r.order.created_at,
            status: r.status,
            items_key: items_key(&r.order),
        }
    }
}

/// The hold for `order` when another order of the same customer for the same items was placed
/// within `window` of it (either side: deliveries arrive out of order) and was not cancelled;
/// it names the earliest such order.
pub fn probable_duplicate(
    id: &OrderId,
    order: &CanonicalOrder,
    candidates: &[PriorOrder],
    window: Duration,
) -> Option<HoldReason> {
    let items = items_key(order);
    let twin = candidates
        .iter()
        .filter(|c| &c.id != id && c.items_key == items && c.status != OrderStatus::Cancelled)
        .filter(|c| (c.placed_at - order.created_at).abs() <= window)
        .min_by_key(|c| (c.placed_at, c.id.clone()))?;
    let hours = (order.created_at - twin.placed_at).num_minutes() as f64 / 60.0;
    let when = if hours >= 0.0 { format!("{hours:.1} h earlier") } else { format!("{:.1} h later", -hours) };
    Some(HoldReason::new(
        FindingCode::PossibleDuplicate,
        HoldCategory::Duplicate,
        Some("lines".into()),
        format!("the same customer ordered the same items in order {} ({}), placed {when}", twin.name, twin.id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_order;

    fn prior(id: &str, o: &CanonicalOrder, hours: i64) -> PriorOrder {
        PriorOrder {
            id: OrderId::new(id).unwrap(),
            name: "#999".into(),
            placed_at: o.created_at - Duration::hours(hours),
            status: OrderStatus::Submitted,
            items_key: items_key(o),
        }
    }

    #[test]
    fn emails_and_addresses_normalize() {
        assert_eq!(normalize_email(" Jane.Doe+shop@GoogleMail.com").as_deref(), Some("janedoe@gmail.com"));
        assert_eq!(normalize_email("jane.doe@example.com").as_deref(), Some("jane.doe@example.com"));
        assert_eq!(normalize_email("not an email"), None);
        let mut a = sample_order().shipping_address.unwrap();
        let before = normalize_address(&a);
        a.line1 = " 12  MAIN street ".into();
        a.postal_code = "62 701".into();
        a.name = "A. Lovelace".into();
        assert_eq!(normalize_address(&a), before);
        a.line1 = "14 Main St".into();
        assert_ne!(normalize_address(&a), before);
    }

    /// Keyed: a list of known emails hashed with SHA-256 does not find customers in the index,
    /// and another deployment's key gives other fingerprints.
    #[test]
    fn fingerprints_are_keyed_by_the_secret() {
        let o = sample_order();
        let (k1, k2) = (FingerprintKey::new("one"), FingerprintKey::new("two"));
        let (a, b) = (customer_keys(&o, &k1), customer_keys(&o, &k2));
        assert_eq!(a, customer_keys(&o, &k1), "stable");
        assert_ne!(a, b);
        let email = normalize_email(o.contact.email.as_deref().unwrap_or_default()).unwrap_or_default();
        assert_ne!(a[0].value(), fingerprint("email", &email), "not the bare hash");
        assert_eq!(format!("{k1:?}"), "FingerprintKey(..)", "the key never reaches a log");
    }

    #[test]
    fn same_customer_same_items_within_the_window_holds_naming_the_earlier_order() {
        let o = sample_order();
        let me = OrderId::new("o_aaaaaaaaaaaaaaaa").unwrap();
        let earlier = prior("o_bbbbbbbbbbbbbbbb", &o, 3);
        let hold = probable_duplicate(&me, &o, std::slice::from_ref(&earlier), Duration::hours(24)).unwrap();
        assert_eq!((hold.code, hold.category), (FindingCode::PossibleDuplicate, HoldCategory::Duplicate));
        assert!(hold.message.contains("#999 (o_bbbbbbbbbbbbbbbb), placed 3.0 h earlier"), "{}", hold.message);

        let cases: [(&str, PriorOrder, bool); 5] = [
            ("itself", prior(me.as_str(), &o, 0), false),
            ("outside the window", prior("o_cccccccccccccccc", &o, 25), false),
            ("cancelled", PriorOrder { status: OrderStatus::Cancelled, ..earlier.clone() }, false),
            ("other items", PriorOrder { items_key: "x".into(), ..earlier.clone() }, false),
            ("placed later (out-of-order delivery)", prior("o_dddddddddddddddd", &o, -2), true),
        ];
        for (name, c, holds) in cases {
            assert_eq!(probable_duplicate(&me, &o, &[c], Duration::hours(24)).is_some(), holds, "{name}");
        }
        // Line order and ids don't matter; quantities do.
        let mut reordered = o.clone();
        reordered.lines.reverse();
        reordered.lines[0].line_id = "99".into();
        assert_eq!(items_key(&reordered), items_key(&o));
        reordered.lines[0].quantity += 1;
        assert_ne!(items_key(&reordered), items_key(&o));
    }

    #[test]
    fn keys_are_fingerprints_not_personal_data() {
        let keys = customer_keys(&sample_order(), &FingerprintKey::new("test"));
        assert_eq!(keys.len(), 2);
        for k in &keys {
            assert_eq!(k.value().len(), 32);
            assert!(!k.value().contains('@') && !k.value().contains("Main"));
        }
    }
}
