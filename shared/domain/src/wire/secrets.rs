//! Signing secrets, looked up by name. Loaded once at init (from SSM Parameter Store in AWS).
//!
//! Names, relative to the configured path (`/dropline/secrets` by default):
//! * `shopify/<shop domain>`: a shop's own secret (a custom app's), or `shopify`: the client
//!   secret of a public app, which signs for every shop that installed it;
//! * `woocommerce/<site host>`: the site's webhook secret (WooCommerce gives every webhook its
//!   own; there is no default);
//! * `suppliers/<supplier id>` (HMAC secret for callbacks and outbound purchase orders).
//!
//! The store a delivery comes from is bound to the secret that verified it, never taken from an
//! unsigned header alone: a shop with its own secret is verified by that secret only (the app's
//! is not tried for it), and a body verified by the app-wide secret says only "some shop of this
//! app", so ingest binds its order to the first shop that sent it (see [`Signer`]).
//!
//! A value may hold several secrets separated by commas or newlines: during a rotation, list the
//! new and the old one; both verify.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct SecretBook {
    entries: HashMap<String, Vec<String>>,
}

impl SecretBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value` (possibly several secrets) under `name`.
    pub fn insert(&mut self, name: &str, value: &str) {
        let name = name.trim_matches('/').to_ascii_lowercase();
        let list = self.entries.entry(name).or_default();
        for s in value.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            list.push(s.to_string());
        }
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.insert(name, value);
        self
    }

    pub fn get(&self, name: &str) -> &[String] {
        self.entries.get(&name.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys that may speak for a Shopify shop: its own secrets when it has any (then the
    /// app-wide one is not tried), otherwise the app-wide client secret.
    pub fn shopify(&self, shop_domain: &str) -> StoreKeys<'_> {
        let own = self.own("shopify", shop_domain);
        if own.is_empty() {
            StoreKeys { signer: Signer::App, secrets: self.get("shopify").iter().map(String::as_str).collect() }
        } else {
            StoreKeys { signer: Signer::Store, secrets: own }
        }
    }

    /// The keys of a WooCommerce site (by host): its own only.
    pub fn woocommerce(&self, source: &str) -> StoreKeys<'_> {
        let host = source
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        StoreKeys { signer: Signer::Store, secrets: self.own("woocommerce", &host) }
    }

    /// Names that no longer verify anything (a WooCommerce default secret), to warn about at init.
    pub fn ignored_names(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).filter(|n| *n == "woocommerce").collect()
    }

    pub fn supplier(&self, supplier_id: &str) -> Vec<&str> {
        self.get(&format!("suppliers/{supplier_id}")).iter().map(String::as_str).collect()
    }

    fn own(&self, channel: &str, scope: &str) -> Vec<&str> {
        if scope.is_empty() {
            return Vec::new();
        }
        self.get(&format!("{channel}/{scope}")).iter().map(String::as_str).collect()
    }
}

/// Whose secret verified a delivery, which says how far its claimed store can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The store's own secret: the store is who the secret belongs to.
    Store,
    /// A secret several stores share (a public app's client secret): the body is genuine, but
    /// the store named beside it is not proven; the order must be bound to its first store.
    App,
}

/// The secrets to try for a delivery, and what a match would prove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreKeys<'a> {
    pub signer: Signer,
    pub secrets: Vec<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_rotation() {
        let b = SecretBook::new()
            .with("shopify", "app-secret")
            .with("shopify/special.myshopify.com", "new, old")
            .with("woocommerce/shop.example.org", "woo")
            .with("/suppliers/acme/", "s1");
        let other = b.shopify("other.myshopify.com");
        assert_eq!((other.signer, other.secrets), (Signer::App, vec!["app-secret"]));
        // A shop with its own secret is verified by it alone: the app's is not a fallback.
        let special = b.shopify("special.myshopify.com");
        assert_eq!((special.signer, special.secrets), (Signer::Store, vec!["new", "old"]));
        assert_eq!(b.woocommerce("https://Shop.example.org/").secrets, vec!["woo"]);
        assert!(b.woocommerce("https://elsewhere.example.org").secrets.is_empty());
        assert_eq!(b.supplier("acme"), vec!["s1"]);
        assert!(b.supplier("nobody").is_empty());
    }

    #[test]
    fn woocommerce_has_no_default_secret() {
        let b = SecretBook::new().with("woocommerce", "shared-by-every-site");
        assert!(b.woocommerce("https://shop.example.org").secrets.is_empty());
        assert_eq!(b.ignored_names(), vec!["woocommerce"]);
    }
}
