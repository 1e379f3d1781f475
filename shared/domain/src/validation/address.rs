//! Address rules: per country, the required fields, the postal-code pattern and canonical
//! format, the subdivisions (states, provinces) and, for the US and Canada, which postal codes
//! belong to which subdivision. The table is ours (`shared/data/address_rules.json`), compiled
//! into the binary and parsed on first use, never downloaded.
//!
//! `check` normalizes an address (trim, collapse spaces, upper-case postal code, state names to
//! codes), records every change it made, and reports every finding: holds for what can't be
//! delivered, warnings for what looks wrong but may be right.

use crate::findings::{FindingCode, HoldCategory, HoldReason};
use crate::order::Address;
use crate::validation::countries::is_country;
use crate::validation::required_letters::{Letters, required_letters};
use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const RULES_JSON: &str = include_str!("../../data/address_rules.json");

#[derive(Debug, Deserialize)]
struct RulesFile {
    countries: BTreeMap<String, CountryRules>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PostalRule {
    pub pattern: String,
    pub example: String,
    #[serde(default)]
    pub format: String,
    /// A mask of the canonical form: `A` a letter, `9` a digit, anything else literal
    /// (`A9A 9A9`, `9999 AA`, `99-999`).
    #[serde(default)]
    pub canonical_format: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Subdivision {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CountryRules {
    pub name: String,
    #[serde(default)]
    pub required: Vec<String>,
    pub postal_code: Option<PostalRule>,
    #[serde(default)]
    pub has_house_numbers: bool,
    #[serde(default)]
    pub subdivisions: Option<BTreeMap<String, Subdivision>>,
    /// US: ZIP 3-digit prefix ranges (`"900-961"`) per state; CA: allowed first letters per
    /// province.
    #[serde(default)]
    pub subdivision_postal_prefixes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    pub po_box_patterns: Vec<String>,
}

/// A country's rules; its patterns are compiled on first use (an order needs one country's,
/// so a function's first validation doesn't pay for all of them).
pub struct Country {
    pub code: String,
    pub rules: CountryRules,
    postal: OnceLock<Option<Regex>>,
    /// Every PO-box pattern of the country as one alternation: one pass over a street line.
    po_box: OnceLock<Option<Regex>>,
    /// What each PO-box pattern needs a line to contain (None: some pattern needs nothing, so
    /// every line is matched against the patterns).
    po_box_letters: OnceLock<Option<Vec<Letters>>>,
}

/// The whole table.
pub struct AddressRules {
    countries: BTreeMap<String, Country>,
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("address rules: {0}")]
    Invalid(String),
}

impl AddressRules {
    /// Parses and compiles a rules document.
    pub fn parse(json: &str) -> Result<Self, RulesError> {
        let file: RulesFile = serde_json::from_str(json).map_err(|e| RulesError::Invalid(e.to_string()))?;
        let countries = file
            .countries
            .into_iter()
            .map(|(code, rules)| {
                let country = Country {
                    code: code.clone(),
                    rules,
                    postal: OnceLock::new(),
                    po_box: OnceLock::new(),
                    po_box_letters: OnceLock::new(),
                };
                (code, country)
            })
            .collect();
        Ok(Self { countries })
    }

    /// Compiles every pattern of every country, reporting the first that doesn't compile (the
    /// tests run this on the bundled table; at run time patterns compile on first use).
    pub fn check_patterns(&self) -> Result<(), RulesError> {
        for c in self.countries.values() {
            c.postal_source().map(|p| c.compile(&p)).transpose()?;
            for p in &c.rules.po_box_patterns {
                c.compile(p)?;
            }
            c.po_box_source().map(|p| c.compile(&p)).transpose()?;
        }
        Ok(())
    }

    /// The table compiled into the binary (parsed on first use; it is checked by the tests, so
    /// a failure here is a build defect and yields an empty table rather than a panic).
    pub fn bundled() -> &'static AddressRules {
        static RULES: OnceLock<AddressRules> = OnceLock::new();
        RULES.get_or_init(|| {
            Self::parse(RULES_JSON).unwrap_or_else(|e| {
                tracing::error!(error = %e, "bundled address rules unreadable; only generic checks apply");
                AddressRules { countries: BTreeMap::new() }
            })
        })
    }

    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries.get(&code.trim().to_ascii_uppercase())
    }

    pub fn len(&self) -> usize {
        self.countries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.countries.keys().map(String::as_str)
    }
}

/// Trims, upper-cases and collapses internal whitespace to one space.
pub fn normalize_postal(code: &str) -> String {
    code.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase()
}

/// Trims and collapses internal whitespace.
pub fn normalize_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Puts a normalized code into the first canonical mask its letters and digits fit exactly.
/// Masks: `A` a letter, `9` a digit, `#` either, anything else literal; alternatives joined
/// with `|` (`A9 9AA|A99 9AA`).
pub fn canonical_postal(normalized: &str, masks: &str) -> Option<String> {
    masks.split('|').find_map(|mask| fill_mask(normalized, mask.trim()))
}

fn fill_mask(normalized: &str, mask: &str) -> Option<String> {
    let mut chars = normalized.chars().filter(|c| c.is_ascii_alphanumeric());
    let mut out = String::with_capacity(mask.len());
    for m in mask.chars() {
        match m {
            'A' => out.push(chars.next().filter(|c| c.is_ascii_alphabetic())?),
            '9' => out.push(chars.next().filter(|c| c.is_ascii_digit())?),
            '#' => out.push(chars.next()?),
            other => out.push(other),
        }
    }
    chars.next().is_none().then_some(out)
}

impl Country {
    fn compile(&self, pattern: &str) -> Result<Regex, RulesError> {
        Regex::new(pattern).map_err(|e| RulesError::Invalid(format!("{} pattern {pattern:?}: {e}", self.code)))
    }

    fn postal_source(&self) -> Option<String> {
        self.rules.postal_code.as_ref().map(|p| p.pattern.clone())
    }

    fn po_box_source(&self) -> Option<String> {
        let patterns = &self.rules.po_box_patterns;
        (!patterns.is_empty()).then(|| {
            let joined: Vec<String> = patterns.iter().map(|p| format!("(?:{p})")).collect();
            format!("(?i){}", joined.join("|"))
        })
    }

    /// Compiles a pattern once; a pattern that doesn't compile (the tests rule that out for the
    /// bundled table) is logged and treated as absent rather than failing the order.
    fn lazy<'a>(
        &self,
        cell: &'a OnceLock<Option<Regex>>,
        source: impl FnOnce() -> Option<String>,
    ) -> Option<&'a Regex> {
        cell.get_or_init(|| {
            source().and_then(|p| {
                self.compile(&p).map_err(|e| tracing::error!(error = %e, "address rule not applied")).ok()
            })
        })
        .as_ref()
    }

    /// The subdivision code for a code, name or alias, case-insensitively.
    pub fn subdivision_code(&self, given: &str) -> Option<&str> {
        let subs = self.rules.subdivisions.as_ref()?;
        let g = normalize_text(given);
        let g_upper = g.to_ascii_uppercase();
        let prefixed = format!("{}-", self.code);
        let bare = g_upper.strip_prefix(&prefixed).unwrap_or(&g_upper);
        if let Some((code, _)) = subs.get_key_value(bare) {
            return Some(code);
        }
        subs.iter()
            .find(|(_, s)| s.name.eq_ignore_ascii_case(&g) || s.aliases.iter().any(|a| a.eq_ignore_ascii_case(&g)))
            .map(|(c, _)| c.as_str())
    }

    pub fn postal_matches(&self, normalized: &str) -> Option<bool> {
        self.lazy(&self.postal, || self.postal_source()).map(|re| re.is_match(normalized))
    }

    /// Whether the postal code belongs to the subdivision (US ZIP prefixes, Canadian first
    /// letters); `None` when the country has no such table or the subdivision isn't in it.
    pub fn postal_in_subdivision(&self, normalized: &str, subdivision: &str) -> Option<bool> {
        let table = self.rules.subdivision_postal_prefixes.as_ref()?;
        let allowed = table.get(subdivision)?;
        if self.code == "US" {
            let prefix: u32 = normalized.get(..3)?.parse().ok()?;
            Some(allowed.iter().any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                matches!((lo.trim().parse::<u32>(), hi.trim().parse::<u32>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&prefix))
            }))
        } else {
            let first = normalized.chars().next()?;
            Some(allowed.iter().any(|p| p.starts_with(first)))
        }
    }

    pub fn is_po_box(&self, line: &str) -> bool {
        if line.is_empty() {
            return false;
        }
        // Most street lines lack the letters every pattern needs: no pattern run for them.
        if let Some(alternatives) = self.po_box_letters.get_or_init(|| self.po_box_needs()) {
            let have = Letters::of_text(line);
            if !alternatives.iter().any(|needed| have.contains_all(needed)) {
                return false;
            }
        }
        self.lazy(&self.po_box, || self.po_box_source()).is_some_and(|re| re.is_match(line))
    }

    fn po_box_needs(&self) -> Option<Vec<Letters>> {
        let patterns = &self.rules.po_box_patterns;
        if patterns.is_empty() {
            return None;
        }
        patterns.iter().map(|p| required_letters(p).filter(|l| !l.is_empty())).collect()
    }
}

/// One normalization applied to the address, recorded on the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalization {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// The outcome of checking one address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressVerdict {
    /// The address after normalization.
    pub address: Address,
    pub changes: Vec<Normalization>,
    /// Holds and warnings.
    pub findings: Vec<HoldReason>,
    /// The street lines look like a PO box (a fact the routing step can read).
    pub po_box: bool,
}

impl AddressVerdict {
    /// True when nothing would hold the order.
    pub fn ok(&self) -> bool {
        !self.findings.iter().any(HoldReason::holds)
    }
}

fn field(f: &str) -> Option<String> {
    Some(format!("shipping_address.{f}"))
}

/// Normalizes and checks an address against the rules.
pub fn check(address: &Address, rules: &AddressRules) -> AddressVerdict {
    let mut a = address.clone();
    let mut changes = Vec::new();
    let mut findings = Vec::new();
    // One recorded change per field, from what the customer typed to the final form.
    let set = |name: &str, value: &mut String, to: String, changes: &mut Vec<Normalization>| {
        if *value != to {
            match changes.iter_mut().find(|c| c.field == name) {
                Some(c) if c.from == to => {
                    changes.retain(|c| c.field != name);
                }
                Some(c) => c.to = to.clone(),
                None => changes.push(Normalization { field: name.to_string(), from: value.clone(), to: to.clone() }),
            }
            *value = to;
        }
    };
    for (name, value) in [
        ("name", &mut a.name),
        ("company", &mut a.company),
        ("line1", &mut a.line1),
        ("line2", &mut a.line2),
        ("city", &mut a.city),
        ("phone", &mut a.phone),
    ] {
        let to = normalize_text(value);
        set(name, value, to, &mut changes);
    }
    let country_code = a.country.trim().to_ascii_uppercase();
    set("country", &mut a.country, country_code.clone(), &mut changes);
    let postal = normalize_postal(&a.postal_code);
    set("postal_code", &mut a.postal_code, postal, &mut changes);
    let region = normalize_text(&a.region);
    set("region", &mut a.region, region, &mut changes);

    let missing = |value: &str, f: &str, what: &str, findings: &mut Vec<HoldReason>| {
        if value.is_empty() {
            findings.push(HoldReason::new(
                FindingCode::AddressFieldMissing,
                HoldCategory::Address,
                field(f),
                format!("the shipping address has no {what}"),
            ));
        }
    };
    missing(&a.name, "name", "recipient name", &mut findings);
    missing(&country_code, "country", "country", &mut findings);

    let Some(country) = rules.country(&country_code) else {
        // Unknown to the table: only the generic checks.
        missing(&a.line1, "line1", "street line", &mut findings);
        missing(&a.city, "city", "city", &mut findings);
        // An empty country is already held as a missing field.
        if !country_code.is_empty() {
            findings.push(if is_country(&country_code) {
                // A real country without bundled rules: nothing wrong is known, nothing was checked.
                HoldReason::warning(
                    FindingCode::AddressUnchecked,
                    HoldCategory::Address,
                    field("country"),
                    format!("no address rules for {country_code}: postal code, region and street were not checked"),
                )
            } else {
                HoldReason::new(
                    FindingCode::AddressCountryInvalid,
                    HoldCategory::Address,
                    field("country"),
                    format!("{country_code:?} is not an ISO 3166 country code"),
                )
            });
        }
        return AddressVerdict { address: a, changes, findings, po_box: false };
    };
    let required = |f: &str| country.rules.required.iter().any(|r| r == f);
    if required("line1") {
        missing(&a.line1, "line1", "street line", &mut findings);
    }
    if required("city") {
        missing(&a.city, "city", "city", &mut findings);
    }
    if required("postal_code") {
        missing(&a.postal_code, "postal_code", "postal code", &mut findings);
    }
    if required("region") {
        missing(&a.region, "region", "state or province", &mut findings);
    }

    // Postal code: the country's pattern, then its canonical form.
    let postal_verdict = if a.postal_code.is_empty() { None } else { country.postal_matches(&a.postal_code) };
    if !a.postal_code.is_empty() {
        match postal_verdict {
            Some(false) => {
                let hint = country.rules.postal_code.as_ref().map(|p| (p.format.clone(), p.example.clone()));
                let (format, example) = hint.unwrap_or_default();
                findings.push(
                    HoldReason::new(
                        FindingCode::PostalCodeInvalid,
                        HoldCategory::Address,
                        field("postal_code"),
                        format!("the postal code is not a {} postal code (format {format})", country.rules.name),
                    )
                    .resolve(format!("correct the postal code in the store; it looks like {example}")),
                );
            }
            Some(true) => {
                if let Some(canonical) = country
                    .rules
                    .postal_code
                    .as_ref()
                    .and_then(|p| p.canonical_format.as_deref())
                    .and_then(|mask| canonical_postal(&a.postal_code, mask))
                {
                    set("postal_code", &mut a.postal_code, canonical, &mut changes);
                }
            }
            None => {}
        }
    }

    // Subdivision: known, written as its code, and (US, CA) matching the postal code.
    if !a.region.is_empty() && country.rules.subdivisions.is_some() {
        match country.subdivision_code(&a.region).map(String::from) {
            None => findings.push(HoldReason::new(
                FindingCode::RegionUnknown,
                HoldCategory::Address,
                field("region"),
                format!("the state or province is not one of {}", country.rules.name),
            )),
            Some(code) => {
                set("region", &mut a.region, code.clone(), &mut changes);
                // The pattern was checked above, on the code before its canonical form (which
                // only regroups the same characters).
                let postal_ok = postal_verdict != Some(false);
                if postal_ok
                    && !a.postal_code.is_empty()
                    && country.postal_in_subdivision(&a.postal_code, &code) == Some(false)
                {
                    findings.push(
                        HoldReason::new(
                            FindingCode::PostalCodeRegionMismatch,
                            HoldCategory::Address,
                            field("postal_code"),
                            format!("the postal code is not in {code}"),
                        )
                        .resolve("check the postal code and the state or province with the customer"),
                    );
                }
            }
        }
    }

    // Street line without a house number where addresses carry one.
    if country.rules.has_house_numbers
        && !a.line1.is_empty()
        && !format!("{} {}", a.line1, a.line2).chars().any(|c| c.is_ascii_digit())
    {
        findings.push(
            HoldReason::warning(
                FindingCode::StreetNumberMissing,
                HoldCategory::Address,
                field("line1"),
                "the street lines carry no house number",
            )
            .resolve("confirm the address with the customer if the parcel may not find its door"),
        );
    }
    let po_box = country.is_po_box(&a.line1) || country.is_po_box(&a.line2);
    if po_box {
        findings.push(HoldReason::warning(
            FindingCode::PoBox,
            HoldCategory::Address,
            field("line1"),
            "the address is a PO box: only services that deliver to PO boxes can take it",
        ));
    }
    AddressVerdict { address: a, changes, findings, po_box }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RULES: &str = r#"{"version": 1, "countries": {
        "US": {"name": "United States", "required": ["line1", "city", "region", "postal_code"],
               "postal_code": {"pattern": "^\\d{5}(-\\d{4})?$", "example": "90210", "format": "NNNNN or NNNNN-NNNN"},
               "has_house_numbers": true,
               "subdivisions": {"CA": {"name": "California", "aliases": ["Calif."]}, "NY": {"name": "New York"}},
               "subdivision_postal_prefixes": {"CA": ["900-961"], "NY": ["005-005", "100-149"]},
               "po_box_patterns": ["\\bP\\.?\\s*O\\.?\\s*BOX\\b"]},
        "CA": {"name": "Canada", "required": ["line1", "city", "region", "postal_code"],
               "postal_code": {"pattern": "^[A-Z]\\d[A-Z] ?\\d[A-Z]\\d$", "example": "M5V 2T6", "format": "A9A 9A9", "canonical_format": "A9A 9A9"},
               "has_house_numbers": true,
               "subdivisions": {"ON": {"name": "Ontario"}, "QC": {"name": "Quebec", "aliases": ["Québec"]}},
               "subdivision_postal_prefixes": {"ON": ["K", "L", "M", "N", "P"], "QC": ["G", "H", "J"]}},
        "HK": {"name": "Hong Kong", "required": ["line1"], "postal_code": null, "has_house_numbers": false}
    }}"#;

    fn rules() -> AddressRules {
        let r = AddressRules::parse(RULES).unwrap();
        r.check_patterns().unwrap();
        r
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_reported() {
        let bad = r#"{"countries": {"XX": {"name": "X", "postal_code": {"pattern": "^(a$", "example": "a"}}}}"#;
        let r = AddressRules::parse(bad).unwrap();
        assert!(r.check_patterns().is_err());
        assert_eq!(r.country("XX").unwrap().postal_matches("A"), None, "treated as absent, never a panic");
    }

    fn addr(country: &str, region: &str, postal: &str, line1: &str) -> Address {
        Address {
            name: "Ada Lovelace".into(),
            line1: line1.into(),
            city: "Somewhere".into(),
            region: region.into(),
            postal_code: postal.into(),
            country: country.into(),
            ..Default::default()
        }
    }

    fn codes(v: &AddressVerdict) -> Vec<&str> {
        v.findings.iter().map(|f| f.code.as_str()).collect()
    }

    /// Issue 11, defect 8: a country Dropline knows nothing about, or a code that is no
    /// country, passed as valid with no finding.
    #[test]
    fn a_code_that_is_no_country_holds_and_a_country_without_rules_is_flagged() {
        let r = rules();
        for not_a_country in ["XX", "ZZ", "UK", "Q1"] {
            let v = check(&addr(not_a_country, "", "12345", "1 Main St"), &r);
            assert!(!v.ok(), "{not_a_country}: {:?}", v.findings);
            assert_eq!(codes(&v), vec!["address_country_invalid"], "{not_a_country}");
            assert_eq!(v.findings[0].field.as_deref(), Some("shipping_address.country"));
        }
        let v = check(&addr("MN", "", "14200", "1 Peace Ave"), &r);
        assert!(v.ok(), "a real country without rules does not hold: {:?}", v.findings);
        assert_eq!(codes(&v), vec!["address_unchecked"]);
        assert!(!v.findings[0].holds());
        assert!(v.findings[0].message.contains("not checked"), "{}", v.findings[0].message);
    }

    #[test]
    fn table_of_address_rules() {
        let r = rules();
        // (address, expected finding codes, ok)
        let cases: Vec<(Address, Vec<&str>, bool)> = vec![
            (addr("US", "CA", "90210", "12 Main St"), vec![], true),
            (addr("us", " california ", " 90210 ", "12  Main St"), vec![], true),
            (addr("US", "CA", "10001", "12 Main St"), vec!["postal_code_region_mismatch"], false),
            (addr("US", "NY", "10001-1234", "12 Main St"), vec![], true),
            (addr("US", "CA", "9021", "12 Main St"), vec!["postal_code_invalid"], false),
            (addr("US", "ZZ", "90210", "12 Main St"), vec!["region_unknown"], false),
            (addr("US", "", "90210", "12 Main St"), vec!["address_field_missing"], false),
            (addr("US", "CA", "", "12 Main St"), vec!["address_field_missing"], false),
            (addr("US", "CA", "90210", "Main Street"), vec!["street_number_missing"], true),
            (addr("US", "CA", "90210", "PO Box 12"), vec!["po_box"], true),
            (addr("CA", "ON", "m5v2t6", "1 King St W"), vec![], true),
            (addr("CA", "Québec", "H2X 1Y4", "1 Rue X"), vec![], true),
            (addr("CA", "QC", "M5V 2T6", "1 Rue X"), vec!["postal_code_region_mismatch"], false),
            (addr("HK", "", "", "Flat 3, Tower 2"), vec![], true),
            (addr("HK", "", "", ""), vec!["address_field_missing"], false),
            // Issue 11: "XX" is no country (it passed with no finding); Mongolia has no rules here.
            (addr("XX", "", "", "1 Road"), vec!["address_country_invalid"], false),
            (addr("MN", "", "", "1 Road"), vec!["address_unchecked"], true),
            (addr("USA", "", "", "1 Road"), vec!["address_country_invalid"], false),
        ];
        for (a, expected, ok) in cases {
            let v = check(&a, &r);
            assert_eq!(codes(&v), expected, "{a:?}");
            assert_eq!(v.ok(), ok, "{a:?}");
        }
    }

    #[test]
    fn normalization_is_recorded_and_keeps_meaning() {
        let v = check(&addr("ca", "Ontario", " m5v  2t6 ", " 1  King St W "), &rules());
        assert_eq!(v.address.postal_code, "M5V 2T6");
        assert_eq!(v.address.region, "ON");
        assert_eq!(v.address.country, "CA");
        assert_eq!(v.address.line1, "1 King St W");
        let fields: Vec<&str> = v.changes.iter().map(|c| c.field.as_str()).collect();
        assert!(
            fields.contains(&"postal_code") && fields.contains(&"region") && fields.contains(&"line1"),
            "{fields:?}"
        );
        let pc: Vec<&Normalization> = v.changes.iter().filter(|c| c.field == "postal_code").collect();
        assert_eq!(pc.len(), 1, "one change per field");
        assert_eq!((pc[0].from.as_str(), pc[0].to.as_str()), (" m5v  2t6 ", "M5V 2T6"));
        // Already clean: nothing recorded.
        assert!(check(&v.address, &rules()).changes.is_empty());
    }

    #[test]
    fn canonical_masks() {
        assert_eq!(canonical_postal("M5V2T6", "A9A 9A9").as_deref(), Some("M5V 2T6"));
        assert_eq!(canonical_postal("1011AB", "9999 AA").as_deref(), Some("1011 AB"));
        assert_eq!(canonical_postal("00950", "99-999").as_deref(), Some("00-950"));
        assert_eq!(canonical_postal("M5V2T", "A9A 9A9"), None);
        assert_eq!(canonical_postal("M5V2T66", "A9A 9A9"), None);
        assert_eq!(
            canonical_postal("SW1A1AA", "A9 9AA|A99 9AA|AA9 9AA|AA99 9AA|A9A 9AA|AA9A 9AA").as_deref(),
            Some("SW1A 1AA")
        );
        assert_eq!(canonical_postal("D02X285", "A99 ####|A9A ####").as_deref(), Some("D02 X285"));
    }

    proptest! {
        #[test]
        fn postal_normalization_is_idempotent_and_ignores_case_and_spacing(s in "[ a-zA-Z0-9-]{0,12}") {
            let once = normalize_postal(&s);
            prop_assert_eq!(normalize_postal(&once), once.clone());
            prop_assert_eq!(normalize_postal(&s.to_lowercase()), once.clone());
            prop_assert_eq!(normalize_postal(&format!("  {}  ", s.replace(' ', "   "))), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' ') && !once.contains("  "));
        }

        #[test]
        fn canonical_form_of_a_canadian_code_is_stable(a in "[A-Z]", b in "[0-9]", c in "[A-Z]", d in "[0-9]", e in "[A-Z]", f in "[0-9]", sep in "( |  |)") {
            let typed = format!("{a}{b}{c}{sep}{d}{e}{f}").to_lowercase();
            let canon = canonical_postal(&normalize_postal(&typed), "A9A 9A9").unwrap();
            prop_assert_eq!(canon.clone(), format!("{a}{b}{c} {d}{e}{f}"));
            prop_assert_eq!(canonical_postal(&canon, "A9A 9A9"), Some(canon.clone()));
        }
    }

    #[derive(Deserialize)]
    struct Sample {
        country: String,
        postal_code: String,
        #[serde(default)]
        region: String,
        expect: String,
    }

    #[test]
    fn the_bundled_table_compiles_and_its_examples_match() {
        let r = AddressRules::parse(RULES_JSON).expect("bundled rules");
        r.check_patterns().expect("every bundled pattern compiles");
        assert!(r.len() >= 60, "at least 60 countries, got {}", r.len());
        for code in r.codes() {
            let c = r.country(code).unwrap();
            if let Some(p) = &c.rules.postal_code {
                assert_eq!(c.postal_matches(&normalize_postal(&p.example)), Some(true), "{code} example {}", p.example);
            }
        }
    }

    #[test]
    fn bundled_samples_every_us_state_and_canadian_province() {
        let r = AddressRules::parse(RULES_JSON).expect("bundled rules");
        let samples: Vec<Sample> =
            serde_json::from_str(include_str!("../../data/address_samples.json")).expect("samples");
        let mut states_ok = std::collections::BTreeSet::new();
        for s in &samples {
            let v = check(&addr(&s.country, &s.region, &s.postal_code, "1 Sample Road"), &r);
            let has = |code: &str| v.findings.iter().any(|f| f.code == code);
            match s.expect.as_str() {
                "ok" => {
                    assert!(
                        !has("postal_code_invalid") && !has("postal_code_region_mismatch") && !has("region_unknown"),
                        "{} {:?} {:?}: {:?}",
                        s.country,
                        s.postal_code,
                        s.region,
                        codes(&v)
                    );
                    if s.country == "US" || s.country == "CA" {
                        states_ok.insert(format!("{}-{}", s.country, v.address.region));
                    }
                }
                "bad_postal_code" => {
                    assert!(has("postal_code_invalid"), "{} {:?}: {:?}", s.country, s.postal_code, codes(&v))
                }
                "region_mismatch" => assert!(
                    has("postal_code_region_mismatch"),
                    "{} {:?} {:?}: {:?}",
                    s.country,
                    s.postal_code,
                    s.region,
                    codes(&v)
                ),
                "unknown_region" => assert!(has("region_unknown"), "{} {:?}: {:?}", s.country, s.region, codes(&v)),
                other => panic!("unknown expectation {other}"),
            }
        }
        for country in ["US", "CA"] {
            let c = r.country(country).unwrap();
            for code in c.rules.subdivision_postal_prefixes.as_ref().unwrap().keys() {
                assert!(states_ok.contains(&format!("{country}-{code}")), "no valid sample for {country}-{code}");
            }
        }
    }
}
