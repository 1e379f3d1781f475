//! Signing secrets, looked up by name. Loaded once at init (from SSM Parameter Store in AWS).
//!
//! Names, relative to the configured path (`/dropline/secrets` by default):
//! * `shopify` (the app's client secret) or `shopify/<shop domain>` for a per-shop secret;
//! * `woocommerce` or `woocommerce/<site host>` (the webhook secret);
//! * `suppliers/<supplier id>` (HMAC secret for callbacks and outbound purchase orders).
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

    /// Secrets for a Shopify shop: its own, then the app-wide one.
    pub fn shopify(&self, shop_domain: &str) -> Vec<&str> {
        self.scoped("shopify", shop_domain)
    }

    /// Secrets for a WooCommerce site (by host): its own, then the default.
    pub fn woocommerce(&self, source: &str) -> Vec<&str> {
        let host =
            source.trim().trim_start_matches("https://").trim_start_matches("http://").split('/').next().unwrap_or("");
        self.scoped("woocommerce", host)
    }

    pub fn supplier(&self, supplier_id: &str) -> Vec<&str> {
        self.get(&format!("suppliers/{supplier_id}")).iter().map(String::as_str).collect()
    }

    fn scoped(&self, channel: &str, scope: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if !scope.is_empty() {
            out.extend(self.get(&format!("{channel}/{scope}")).iter().map(String::as_str));
        }
        out.extend(self.get(channel).iter().map(String::as_str));
        out
    }
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
        assert_eq!(b.shopify("other.myshopify.com"), vec!["app-secret"]);
        assert_eq!(b.shopify("special.myshopify.com"), vec!["new", "old", "app-secret"]);
        assert_eq!(b.woocommerce("https://shop.example.org"), vec!["woo"]);
        assert!(b.woocommerce("https://elsewhere.example.org").is_empty());
        assert_eq!(b.supplier("acme"), vec!["s1"]);
        assert!(b.supplier("nobody").is_empty());
    }
}
