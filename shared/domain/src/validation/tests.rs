//! The validation rules, each on the order it holds and the one it lets through.

use super::*;
use crate::catalog::{Buffer, CatalogDocument, MaxAge};
use crate::order::VariantOption;
use crate::order::{FinancialStatus, ShippingMethod};
use crate::primitives::money::{Currency, Money};
use crate::testing::{sample_catalog, sample_catalog_document, sample_order, view_of};
use chrono::Duration;
use chrono::TimeZone;
use rust_decimal::Decimal;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 15, 0, 0).unwrap()
}
fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}
fn codes(r: &ValidationReport) -> Vec<&str> {
    r.findings.iter().map(|r| r.code.as_str()).collect()
}

/// One case: what to change in a valid order, its catalog and the policy; the codes expected.
struct Ctx {
    order: CanonicalOrder,
    doc: CatalogDocument,
    policy: ValidationPolicy,
}
type Case = (&'static str, fn(&mut Ctx), &'static [&'static str]);

fn offer<'a>(c: &'a mut Ctx, sku: &str, supplier: &str) -> &'a mut Offer {
    c.doc.offers.iter_mut().find(|o| o.sku.as_str() == sku && o.supplier_id.as_str() == supplier).unwrap()
}

fn run(case: fn(&mut Ctx)) -> ValidationReport {
    let mut c = Ctx { order: sample_order(), doc: sample_catalog_document(), policy: ValidationPolicy::default() };
    case(&mut c);
    validate(&c.order, &view_of(&c.doc), &c.policy, now())
}

const CASES: &[Case] = &[
    ("the sample order", |_| {}, &[]),
    ("cancelled", |c| c.order.cancelled_at = Some(now()), &["order_cancelled"]),
    ("test order", |c| c.order.test = true, &["test_order"]),
    // Issue 12, defect 9: two lines sharing an id shared one reservation holder.
    ("two lines with one id", |c| c.order.lines[1].line_id = c.order.lines[0].line_id.clone(), &["line_id_invalid"]),
    ("a line id too long to key on", |c| c.order.lines[0].line_id = "9".repeat(65), &["line_id_invalid"]),
    ("a line without an id", |c| c.order.lines[0].line_id = " ".into(), &["line_id_invalid"]),
    ("pending payment", |c| c.order.financial_status = FinancialStatus::Pending, &["payment_not_accepted"]),
    (
        "authorized, accepted by policy",
        |c| {
            c.order.financial_status = FinancialStatus::Authorized;
            c.policy = ValidationPolicy::parse_statuses("paid,authorized").unwrap();
        },
        &[],
    ),
    ("no contact", |c| c.order.contact = Default::default(), &["contact_missing"]),
    (
        "phone is enough",
        |c| c.order.contact = crate::order::Contact { email: None, phone: Some("+1 555 0100".into()) },
        &[],
    ),
    ("currency not supported", |c| c.order.currency = Currency::parse("JPY").unwrap(), &["currency_unsupported"]),
    ("currency supported by policy", |c| c.policy.currencies.push(Currency::parse("CHF").unwrap()), &[]),
    ("quantity zero", |c| c.order.lines[0].quantity = 0, &["quantity_not_positive", "totals_mismatch"]),
    // Totals: to the cent.
    ("total one cent off", |c| c.order.totals.total = m("106.49"), &["totals_mismatch"]),
    ("subtotal not the lines", |c| c.order.totals.subtotal = m("100.00"), &["totals_mismatch", "totals_mismatch"]),
    (
        "discount and tax balance",
        |c| {
            c.order.totals.discounts = m("10.00");
            c.order.totals.tax = m("7.70");
            c.order.totals.total = m("104.18");
        },
        &[],
    ),
    (
        "tax included in prices is not added",
        |c| {
            c.order.totals.tax = m("17.75");
            c.order.totals.taxes_included = true;
        },
        &[],
    ),
    (
        "tips and duties count",
        |c| {
            c.order.totals.other = m("3.00");
            c.order.totals.total = m("109.48");
        },
        &[],
    ),
    (
        "sub-cent tax rounds like the store",
        |c| {
            c.order.totals.tax = m("1.005");
            c.order.totals.total = m("107.49");
        },
        &[],
    ),
    // Shipping method -> service level.
    (
        "unknown shipping method",
        |c| {
            let m = c.order.shipping_method.as_mut().unwrap();
            m.code = "pigeon".into();
            m.title = "Carrier pigeon".into();
        },
        &["shipping_method_unmapped"],
    ),
    (
        "unknown method, default level configured",
        |c| {
            c.order.shipping_method.as_mut().unwrap().code = "pigeon".into();
            c.policy.shipping = ShippingMap::parse("*=standard").unwrap();
        },
        &[],
    ),
    ("no shipping method", |c| c.order.shipping_method = None, &["shipping_method_unmapped"]),
    // Mapping and variants.
    ("no SKU", |c| c.order.lines[0].sku = None, &["sku_missing"]),
    (
        "unmapped SKU",
        |c| c.order.lines[1].sku = Some(crate::primitives::ids::Sku::new("NOPE").unwrap()),
        &["sku_unmapped"],
    ),
    (
        "discontinued SKU",
        |c| c.order.lines[1].sku = Some(crate::primitives::ids::Sku::new("OLD-1").unwrap()),
        &["sku_discontinued"],
    ),
    (
        "variant title disagrees with the mapped variant",
        |c| {
            offer(c, "TEE-BLK-M", "acme-us").attributes.insert("size".into(), "M".into());
            c.order.lines[0].variant_title = Some("L / Black".into());
        },
        &["variant_mismatch"],
    ),
    (
        "variant title agrees (case and spacing ignored)",
        |c| {
            let o = offer(c, "TEE-BLK-M", "acme-us");
            o.attributes.insert("size".into(), "m".into());
            o.attributes.insert("Color".into(), "Black".into());
            c.order.lines[0].variant_title = Some("M /  black".into());
        },
        &[],
    ),
    (
        "named option disagrees",
        |c| {
            offer(c, "TEE-BLK-M", "acme-us").attributes.insert("Color".into(), "Black".into());
            c.order.lines[0].options = vec![VariantOption { name: "color".into(), value: "Navy".into() }];
        },
        &["variant_mismatch"],
    ),
    (
        "a line that names no variant agrees",
        |c| {
            offer(c, "TEE-BLK-M", "acme-us").attributes.insert("size".into(), "M".into());
            c.order.lines[0].variant_title = None;
        },
        &[],
    ),
    (
        "a variant title without the attribute's value disagrees",
        |c| {
            offer(c, "TEE-BLK-M", "acme-us").attributes.insert("color".into(), "Navy".into());
            c.order.lines[0].variant_title = Some("M / Black".into());
        },
        &["variant_mismatch"],
    ),
    // Stock.
    ("not enough stock", |c| c.order.lines[0].quantity = 51, &["out_of_stock", "totals_mismatch"]),
    (
        "two lines of one SKU draw on the same stock",
        |c| {
            c.order.lines[2].sku = Some(crate::primitives::ids::Sku::new("HOODIE-GRY-L").unwrap());
            offer(c, "HOODIE-GRY-L", "acme-us").stock = 1;
        },
        &["out_of_stock", "out_of_stock"],
    ),
    (
        "buffer units hold back stock",
        |c| {
            offer(c, "HOODIE-GRY-L", "acme-us").buffer = Some(Buffer { units: 20, percent: Decimal::ZERO });
        },
        &["out_of_stock"],
    ),
    (
        "supplier percent buffer, rounded up",
        |c| {
            // 20 in stock, 95% held back = 19 (ceil), 1 left: the order's 1 still fits.
            c.doc.suppliers[0].buffer = Buffer { units: 0, percent: Decimal::from(95) };
        },
        &[],
    ),
    ("reservations of other orders count", |c| offer(c, "HOODIE-GRY-L", "acme-us").reserved = 20, &["out_of_stock"]),
    (
        "stale snapshot holds by default",
        |c| {
            c.doc.suppliers[0].stock_max_age = Some(MaxAge::try_from("6h".to_string()).unwrap());
            offer(c, "HOODIE-GRY-L", "acme-us").stock_as_of = Some(now() - Duration::hours(7));
            offer(c, "TEE-BLK-M", "acme-us").stock_as_of = Some(now() - Duration::hours(5));
            offer(c, "MUG-WHT", "acme-us").stock_as_of = Some(now());
        },
        &["stock_unknown"],
    ),
    (
        "stale snapshot proceeds with a warning when configured",
        |c| {
            c.doc.suppliers[0].stock_max_age = Some(MaxAge::try_from("6h".to_string()).unwrap());
            c.policy.unknown_stock = UnknownStock::Proceed;
        },
        &["stock_unknown", "stock_unknown"],
    ),
    (
        "another supplier's fresh stock fills the line",
        |c| {
            offer(c, "MUG-WHT", "beta-eu").stock = 0;
        },
        &[],
    ),
    (
        "supplier that does not ship there",
        |c| {
            let a = c.order.shipping_address.as_mut().unwrap();
            a.country = "DE".into();
            a.region.clear();
            a.postal_code = "10115".into();
            a.city = "Berlin".into();
        },
        &["no_supplier_for_line", "no_supplier_for_line"],
    ),
    // Margin.
    ("cost above the price", |c| offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00"), &["margin_below_floor"]),
    ("percent floor", |c| c.policy.margin_floor = MarginFloor::parse("80%").unwrap(), &["margin_below_floor"]),
    (
        "shipping estimate and fee count",
        |c| {
            c.doc.suppliers[0].shipping_estimate = m("60.00");
            c.doc.suppliers[0].order_fee = m("30.00");
        },
        &["margin_below_floor"],
    ),
    (
        "margin check off",
        |c| {
            offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00");
            c.policy.margin_floor = MarginFloor::Off;
        },
        &[],
    ),
];

#[test]
fn every_rule_both_outcomes() {
    for (name, case, expected) in CASES {
        let r = run(*case);
        let mut got = codes(&r);
        got.sort_unstable();
        let mut want = expected.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "case {name:?}: {:#?}", r.findings);
    }
}

#[test]
fn a_good_order_passes_with_its_service_level() {
    let r = validate(&sample_order(), &sample_catalog(), &ValidationPolicy::default(), now());
    assert!(r.findings.is_empty(), "{:?}", codes(&r));
    assert!(r.passes());
    assert_eq!(r.service_level, Some(ServiceLevel::Standard));
}

#[test]
fn every_failing_rule_is_reported() {
    let mut o = sample_order();
    o.financial_status = FinancialStatus::Pending;
    o.contact = Default::default();
    let a = o.shipping_address.as_mut().unwrap();
    a.postal_code.clear();
    a.line1 = "  ".into();
    o.lines[0].quantity = 0;
    o.lines[1].sku = Some(crate::primitives::ids::Sku::new("NOPE").unwrap());
    let r = validate(&o, &sample_catalog(), &ValidationPolicy::default(), now());
    assert_eq!(
        codes(&r),
        vec![
            "payment_not_accepted",
            "totals_mismatch",
            "address_field_missing",
            "address_field_missing",
            "contact_missing",
            "quantity_not_positive",
            "sku_unmapped"
        ]
    );
    let f = |code: &str| r.findings.iter().find(|f| f.code == code).unwrap();
    assert_eq!(f("address_field_missing").field.as_deref(), Some("shipping_address.line1"));
    assert_eq!(f("sku_unmapped").category, HoldCategory::Mapping);
    assert!(r.findings.iter().all(|f| f.resolution.is_some()), "every code has a resolution");
}

#[test]
fn messages_name_what_to_fix() {
    let r = run(|c| c.order.totals.total = m("106.49"));
    assert!(r.findings[0].message.contains("= 106.48 USD, but the total is 106.49 USD"), "{}", r.findings[0].message);
    let r = run(|c| c.order.lines[0].quantity = 51);
    let stock = r.findings.iter().find(|f| f.code == "out_of_stock").unwrap();
    assert!(stock.message.contains("acme-us: 50 available, 51 needed"), "{}", stock.message);
    let r = run(|c| offer(c, "HOODIE-GRY-L", "acme-us").cost = m("95.00"));
    assert!(r.findings[0].message.starts_with("margin -"), "{}", r.findings[0].message);
}

#[test]
fn policy_reads_every_variable_and_names_the_bad_one() {
    let p = ValidationPolicy::default();
    assert_eq!(p.accepted_financial_statuses, vec![FinancialStatus::Paid]);
    assert_eq!(p.margin_floor, MarginFloor::Absolute(Money::ZERO));
    assert_eq!(p.duplicate_window, Duration::hours(24));
    assert_eq!(p.payment_fees.on(m("100")), m("3.20"));
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    };
    let p = ValidationPolicy::from_lookup(env(&[
        ("DROPLINE_CURRENCIES", "usd, chf"),
        ("DROPLINE_SHIPPING_METHODS", "Colissimo=standard, DHL Next Day=overnight"),
        ("DROPLINE_UNKNOWN_STOCK", "proceed"),
        ("DROPLINE_MARGIN_FLOOR", "12.5%"),
        ("DROPLINE_DUPLICATE_WINDOW", "2d"),
    ]))
    .unwrap();
    assert_eq!(p.currencies.len(), 2);
    assert_eq!(p.unknown_stock, UnknownStock::Proceed);
    assert_eq!(p.margin_floor, MarginFloor::Percent(Decimal::new(125, 1)));
    assert_eq!(p.duplicate_window, Duration::days(2));
    let method = |t: &str| ShippingMethod { code: String::new(), title: t.into(), price: Money::ZERO };
    assert_eq!(p.shipping.level_of(Some(&method("dhl next-day"))), Some(ServiceLevel::Overnight));
    assert_eq!(p.shipping.level_of(Some(&method("Colissimo"))), Some(ServiceLevel::Standard));
    assert_eq!(p.shipping.level_of(Some(&method("UPS Express Saver"))), Some(ServiceLevel::Expedited));
    assert_eq!(p.shipping.level_of(None), None);
    for (var, bad) in [
        ("DROPLINE_CURRENCIES", "US"),
        ("DROPLINE_SHIPPING_METHODS", "Colissimo"),
        ("DROPLINE_SHIPPING_METHODS", "x=fastest"),
        ("DROPLINE_UNKNOWN_STOCK", "maybe"),
        ("DROPLINE_MARGIN_FLOOR", "lots"),
        ("DROPLINE_PAYMENT_FEES", "x%"),
        ("DROPLINE_DUPLICATE_WINDOW", "1w"),
        ("DROPLINE_ACCEPTED_FINANCIAL_STATUSES", "paid,bogus"),
    ] {
        let err = ValidationPolicy::from_lookup(|k| (k == var).then(|| bad.to_string())).unwrap_err();
        assert!(err.to_string().starts_with(var), "{var}={bad}: {err}");
    }
}

#[test]
fn absurd_amounts_hold_and_never_panic() {
    let huge = Money::new(Decimal::MAX).unwrap();
    let r = run(|c| {
        c.order.lines[0].unit_price = Money::new(Decimal::MAX).unwrap();
        c.order.totals.subtotal = Money::new(Decimal::MAX).unwrap();
        c.order.totals.shipping = Money::new(Decimal::MAX).unwrap();
        c.order.totals.total = m("1.00");
        c.policy.margin_floor = MarginFloor::Percent(Decimal::MAX);
    });
    assert!(r.findings.iter().any(|f| f.code == "totals_mismatch"), "{:?}", r.findings);
    assert_eq!(Fees { percent: Decimal::MAX, fixed: huge }.on(huge), huge);
    assert!(crate::primitives::duration::parse_duration("9999999999999d").is_err());
}

#[test]
fn postal_code_optional_where_countries_have_none() {
    let mut o = sample_order();
    let a = o.shipping_address.as_mut().unwrap();
    a.country = "HK".into();
    a.region.clear();
    a.postal_code.clear();
    let mut doc = sample_catalog_document();
    doc.suppliers[0].ships_to.push("HK".into());
    assert!(validate(&o, &view_of(&doc), &ValidationPolicy::default(), now()).findings.is_empty());
}

/// The index of the sample order's MUG-WHT line (two suppliers offer it).
fn mug(c: &Ctx) -> usize {
    c.order.lines.iter().position(|l| l.sku.as_ref().is_some_and(|s| s.as_str() == "MUG-WHT")).unwrap()
}

/// Issue 11, defect 1: one supplier's wrong variant mapping held the whole order, though
/// another supplier had the right variant (and routing would have chosen it).
#[test]
fn a_wrong_variant_at_one_supplier_holds_only_when_no_supplier_has_the_right_one() {
    let wrong_at_beta = |c: &mut Ctx| {
        let i = mug(c);
        c.order.lines[i].variant_title = Some("White".into());
        offer(c, "MUG-WHT", "beta-eu").attributes.insert("color".into(), "Black".into());
        offer(c, "MUG-WHT", "acme-us").attributes.insert("color".into(), "White".into());
    };
    let r = run(wrong_at_beta);
    assert!(r.passes(), "acme-us has the right variant: {:?}", r.findings);
    assert_eq!(codes(&r), vec!["variant_mismatch"]);
    assert!(!r.findings[0].holds(), "the bad mapping is a warning");
    assert!(r.findings[0].message.contains("beta-eu"), "{}", r.findings[0].message);

    // Every supplier mapped to another variant: the line waits for a human, as before.
    let r = run(|c| {
        let i = mug(c);
        c.order.lines[i].variant_title = Some("White".into());
        offer(c, "MUG-WHT", "beta-eu").attributes.insert("color".into(), "Black".into());
        offer(c, "MUG-WHT", "acme-us").attributes.insert("color".into(), "Navy".into());
    });
    assert!(!r.passes());
    assert_eq!(codes(&r), vec!["variant_mismatch"]);

    // The right variant's supplier has no stock: the line holds for stock, never fills from
    // the wrong variant.
    let r = run(|c| {
        let i = mug(c);
        c.order.lines[i].variant_title = Some("White".into());
        offer(c, "MUG-WHT", "beta-eu").attributes.insert("color".into(), "Black".into());
        let right = offer(c, "MUG-WHT", "acme-us");
        right.attributes.insert("color".into(), "White".into());
        right.stock = 0;
    });
    assert!(!r.passes());
    assert_eq!(codes(&r), vec!["variant_mismatch", "out_of_stock"], "{:?}", r.findings);
}
