//! The SAM template and the code agree: every function crate has a resource that builds its
//! binary, every environment variable a function reads is set for it, every queue has a
//! dead-letter queue with an alarm, consumers report partial batch failures with a visibility
//! timeout of at least 6x their timeout, and the tables have the keys and indexes the code uses.

use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("infra/template.yaml")).expect("read infra/template.yaml");
    serde_yaml::from_str(&text).expect("template is YAML")
}

/// The logical id a `!Ref X` / `!GetAtt X.Attr` points at.
fn target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "!Ref" || t.tag == "Ref" => t.value.as_str().map(String::from),
        Value::Tagged(t) if t.tag == "!GetAtt" || t.tag == "GetAtt" => {
            t.value.as_str().map(|s| s.split('.').next().unwrap_or("").to_string())
        }
        Value::Mapping(m) => m
            .get("Ref")
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| m.get("Fn::GetAtt").and_then(|g| g.get(0)).and_then(Value::as_str).map(String::from)),
        _ => None,
    }
}

fn resources(t: &Value) -> BTreeMap<String, Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.clone()))
        .collect()
}

fn of_type<'a>(res: &'a BTreeMap<String, Value>, ty: &str) -> Vec<(&'a String, &'a Value)> {
    res.iter().filter(|(_, v)| v["Type"].as_str() == Some(ty)).collect()
}

/// Function crates: (directory, binary name).
fn function_crates() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let dir = entry.expect("entry").path();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("crate manifest");
        let bin = manifest
            .split("[[bin]]")
            .nth(1)
            .and_then(|b| b.lines().find(|l| l.trim_start().starts_with("name")))
            .and_then(|l| l.split('"').nth(1))
            .expect("a [[bin]] with a name")
            .to_string();
        out.push((dir.file_name().expect("name").to_string_lossy().to_string(), bin));
    }
    out.sort();
    out
}

/// Every `"DROPLINE_..."` string literal in a crate's sources.
fn env_vars_read(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("src dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                // The validation policy is read in the shared library: a function that reads it
                // reads its variables.
                if text.contains("ValidationPolicy::from_lookup") {
                    out.extend(dropline_domain::validation::POLICY_VARIABLES.iter().map(|(v, _)| v.to_string()));
                }
                for piece in text.split('"').skip(1).step_by(2) {
                    if piece.starts_with("DROPLINE_")
                        && piece.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        out.insert(piece.to_string());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_function_crate_has_a_resource_building_its_binary() {
    let t = template();
    let res = resources(&t);
    let functions = of_type(&res, "AWS::Serverless::Function");
    let crates = function_crates();
    assert_eq!(crates.len(), 6, "six function crates: {crates:?}");
    for (dir, bin) in &crates {
        let found: Vec<_> = functions
            .iter()
            .filter(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(bin.as_str()))
            .collect();
        assert_eq!(found.len(), 1, "functions/{dir}: one resource builds binary {bin}");
        let (name, f) = found[0];
        let p = &f["Properties"];
        assert_eq!(f["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
        assert_eq!(p["Runtime"].as_str(), Some("provided.al2023"), "{name}");
        assert_eq!(p["Architectures"][0].as_str(), Some("arm64"), "{name}");
        assert_eq!(p["Handler"].as_str(), Some("bootstrap"), "{name}");
    }
    assert_eq!(functions.len(), crates.len(), "no resource without a crate");
}

#[test]
fn every_environment_variable_a_function_reads_is_set_for_it() {
    let t = template();
    let res = resources(&t);
    let globals: BTreeSet<String> = t["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .map(|m| m.keys().filter_map(|k| k.as_str().map(String::from)).collect())
        .unwrap_or_default();
    for (dir, bin) in function_crates() {
        let (name, f) = of_type(&res, "AWS::Serverless::Function")
            .into_iter()
            .find(|(_, f)| f["Metadata"]["BuildProperties"]["Binary"].as_str() == Some(bin.as_str()))
            .expect("resource");
        let set: BTreeSet<String> = f["Properties"]["Environment"]["Variables"]
            .as_mapping()
            .map(|m| m.keys().filter_map(|k| k.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let read = env_vars_read(&root().join("functions").join(&dir));
        assert!(!read.is_empty(), "functions/{dir} reads its configuration");
        for var in &read {
            assert!(
                set.contains(var) || globals.contains(var),
                "{name} (functions/{dir}) reads {var} but the template does not set it"
            );
        }
        // Every variable references something real (a resource or a parameter) or is a literal.
        for (k, v) in f["Properties"]["Environment"]["Variables"].as_mapping().into_iter().flatten() {
            if let Some(id) = target(v) {
                let known = res.contains_key(&id) || t["Parameters"].get(id.as_str()).is_some();
                assert!(known, "{name}: {k:?} refers to unknown {id}");
            }
        }
    }
}

#[test]
fn every_queue_has_a_dead_letter_queue_with_an_alarm_and_consumers_are_safe() {
    let t = template();
    let res = resources(&t);
    let queues = of_type(&res, "AWS::SQS::Queue");
    let dlqs: BTreeSet<String> =
        queues.iter().filter_map(|(_, q)| target(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])).collect();
    // Where scheduled (asynchronous) runs go when they fail: dead-letter queues too.
    let failures: BTreeSet<String> = of_type(&res, "AWS::Serverless::Function")
        .iter()
        .filter_map(|(_, f)| {
            target(&f["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"])
        })
        .collect();
    let sources: Vec<_> = queues.iter().filter(|(n, _)| !dlqs.contains(*n) && !failures.contains(*n)).collect();
    assert_eq!(sources.len(), 3, "one queue per link: validate, route, notify-supplier");
    let alarmed: BTreeSet<String> = of_type(&res, "AWS::CloudWatch::Alarm")
        .iter()
        .filter_map(|(_, a)| a["Properties"]["Dimensions"].as_sequence()?.iter().find_map(|d| target(&d["Value"])))
        .collect();
    for (name, f) in of_type(&res, "AWS::Serverless::Function") {
        let scheduled = f["Properties"]["Events"]
            .as_mapping()
            .is_some_and(|events| events.values().any(|e| e["Type"].as_str() == Some("Schedule")));
        if scheduled {
            let to = target(&f["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"])
                .unwrap_or_else(|| panic!("{name}: a scheduled function keeps its failed runs somewhere"));
            assert!(alarmed.contains(&to), "{name}: its failed runs ({to}) alarm");
        }
    }
    for (name, q) in &sources {
        let dlq = target(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
            .unwrap_or_else(|| panic!("{name} has no dead-letter queue"));
        assert!(res.contains_key(&dlq), "{name}: DLQ {dlq} exists");
        assert!(q["Properties"]["RedrivePolicy"]["maxReceiveCount"].as_u64().is_some_and(|n| n >= 1), "{name}");
        assert!(alarmed.contains(&dlq), "the DLQ {dlq} of {name} has an alarm");
        let dlq_retention = res[&dlq]["Properties"]["MessageRetentionPeriod"].as_u64().unwrap_or(345_600);
        let retention = q["Properties"]["MessageRetentionPeriod"].as_u64().unwrap_or(345_600);
        assert!(dlq_retention > retention, "{dlq} keeps messages longer than {name}");

        // Its consumer: partial batch failures, and a visibility timeout >= 6x its timeout.
        let consumers: Vec<_> = of_type(&res, "AWS::Serverless::Function")
            .into_iter()
            .filter_map(|(fname, f)| {
                let events = f["Properties"]["Events"].as_mapping()?;
                let e = events.values().find(|e| {
                    e["Type"].as_str() == Some("SQS")
                        && target(&e["Properties"]["Queue"]).as_deref() == Some(name.as_str())
                })?;
                Some((fname, f, e.clone()))
            })
            .collect();
        assert_eq!(consumers.len(), 1, "{name} has one consumer");
        let (fname, f, event) = &consumers[0];
        let types = &event["Properties"]["FunctionResponseTypes"];
        assert!(
            types.as_sequence().is_some_and(|s| s.iter().any(|v| v.as_str() == Some("ReportBatchItemFailures"))),
            "{fname} reports batch item failures"
        );
        let timeout = f["Properties"]["Timeout"].as_u64().or(t["Globals"]["Function"]["Timeout"].as_u64()).unwrap_or(3);
        let visibility = q["Properties"]["VisibilityTimeout"].as_u64().unwrap_or(30);
        assert!(visibility >= 6 * timeout, "{name}: visibility {visibility} s < 6 x {fname} timeout {timeout} s");
        // A consumer that leases its messages gives a failed one the queue's own timeout back.
        if let Some(retry) = f["Properties"]["Environment"]["Variables"]["DROPLINE_RETRY_AFTER_SECONDS"].as_str() {
            assert_eq!(retry.parse::<u64>().ok(), Some(visibility), "{fname}: retry after = {name}'s visibility");
        }
    }
}

#[test]
fn tables_match_the_code() {
    let t = template();
    let res = resources(&t);
    let tables = of_type(&res, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 3);
    for (name, table) in &tables {
        let p = &table["Properties"];
        assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{name}");
        assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(), Some(true), "{name}");
    }
    let orders = &res["OrdersTable"]["Properties"];
    assert_eq!(orders["KeySchema"][0]["AttributeName"].as_str(), Some("pk"));
    let indexes: BTreeMap<String, (String, String)> = orders["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes")
        .iter()
        .map(|i| {
            let ks = &i["KeySchema"];
            (
                i["IndexName"].as_str().unwrap_or_default().to_string(),
                (
                    ks[0]["AttributeName"].as_str().unwrap_or_default().to_string(),
                    ks[1]["AttributeName"].as_str().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect();
    use dropline_adapters::aws::{
        ADDRESS_INDEX, DUPLICATE_INDEX_ATTRIBUTES, EMAIL_INDEX, INDEX_PARTITION_KEYS, STATUS_INDEX, TRACKING_INDEX,
    };
    // Every index's partition key is the attribute the adapter writes (the sharded ones too).
    for (index, hash) in INDEX_PARTITION_KEYS {
        assert_eq!(indexes.get(index).map(|(h, _)| h.as_str()), Some(hash), "{index}");
    }
    assert_eq!(indexes.get(STATUS_INDEX), Some(&("status_shard".to_string(), "status_since".to_string())));
    assert_eq!(indexes.get(EMAIL_INDEX), Some(&("email_key".to_string(), "placed_at".to_string())));
    assert_eq!(indexes.get(ADDRESS_INDEX), Some(&("address_key".to_string(), "placed_at".to_string())));
    for i in orders["GlobalSecondaryIndexes"].as_sequence().expect("indexes") {
        let name = i["IndexName"].as_str().unwrap_or_default();
        if name == EMAIL_INDEX || name == ADDRESS_INDEX {
            // Exactly what the adapter reads, and nothing personal.
            assert_eq!(i["Projection"]["ProjectionType"].as_str(), Some("INCLUDE"), "{name}");
            let copied: Vec<&str> = i["Projection"]["NonKeyAttributes"]
                .as_sequence()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            assert_eq!(copied, DUPLICATE_INDEX_ATTRIBUTES, "{name}");
        } else {
            assert_eq!(i["Projection"]["ProjectionType"].as_str(), Some("KEYS_ONLY"), "{name} copies no order data");
        }
    }
    assert_eq!(indexes.get(TRACKING_INDEX), Some(&("tracking_bucket".to_string(), "tracking_due_at".to_string())));
    let idem = &res["IdempotencyTable"]["Properties"];
    assert_eq!(idem["KeySchema"][0]["AttributeName"].as_str(), Some("id"));
    assert_eq!(idem["TimeToLiveSpecification"]["AttributeName"].as_str(), Some("expiration"));
    assert_eq!(idem["TimeToLiveSpecification"]["Enabled"].as_bool(), Some(true));
}

#[test]
fn the_schedules_and_routes_exist() {
    let t = template();
    let res = resources(&t);
    let mut routes = BTreeSet::new();
    let mut schedules = BTreeSet::new();
    for (name, f) in of_type(&res, "AWS::Serverless::Function") {
        for e in f["Properties"]["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            match e["Type"].as_str() {
                Some("HttpApi") => {
                    routes.insert(format!(
                        "{} {}",
                        e["Properties"]["Method"].as_str().unwrap_or("").to_uppercase(),
                        e["Properties"]["Path"].as_str().unwrap_or("")
                    ));
                }
                Some("Schedule") | Some("ScheduleV2") => {
                    schedules.insert(name.clone());
                }
                _ => {}
            }
        }
    }
    let expected: BTreeSet<String> =
        ["POST /webhooks/shopify", "POST /webhooks/woocommerce", "POST /suppliers/{supplier_id}/events"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    assert_eq!(routes, expected);
    assert_eq!(schedules, ["EscalateFunction".to_string(), "PollTrackingFunction".to_string()].into_iter().collect());
    // Scheduled runs have no DLQ: their failures raise an alarm instead.
    let alarmed: BTreeSet<String> = of_type(&res, "AWS::CloudWatch::Alarm")
        .iter()
        .filter(|(_, a)| a["Properties"]["Namespace"].as_str() == Some("AWS/Lambda"))
        .filter_map(|(_, a)| a["Properties"]["Dimensions"].as_sequence()?.iter().find_map(|d| target(&d["Value"])))
        .collect();
    assert_eq!(alarmed, schedules, "every scheduled function has an error alarm");
}

/// One permission as granted: the action, the resource (logical names, `ssm:` paths), the key
/// prefixes a `dynamodb:LeadingKeys` condition allows, and the template condition it is under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    action: String,
    resource: String,
    leading_keys: Option<Vec<String>>,
    only_if: Option<String>,
}

/// A resource written as the test reads it: `OrdersTable`, `OrdersTable/index/by-status`,
/// `ssm:${SecretsPath}/suppliers/*`, `Ref:SecretsKmsKeyArn`.
fn render_resource(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Tagged(t) if t.tag == "!GetAtt" => {
            return t.value.as_str().unwrap_or("").trim_end_matches(".Arn").into();
        }
        Value::Tagged(t) if t.tag == "!Ref" => return format!("Ref:{}", t.value.as_str().unwrap_or("")),
        Value::Tagged(t) if t.tag == "!Sub" => match &t.value {
            Value::String(s) => s.clone(),
            Value::Sequence(parts) => {
                // [template, {Name: ...}]: the variables are shown by name.
                parts.first().and_then(Value::as_str).unwrap_or("").to_string()
            }
            other => format!("{other:?}"),
        },
        other => format!("{other:?}"),
    };
    let text = text.replace("arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter", "ssm:");
    let mut out = text.clone();
    if let (Some(a), Some(b)) = (text.find("${"), text.find(".Arn}")) {
        out = format!("{}{}{}", &text[..a], &text[a + 2..b], &text[b + 5..]);
    }
    out
}

fn grants(function: &Value) -> Vec<Grant> {
    let mut out = Vec::new();
    let policies = function["Properties"]["Policies"].as_sequence().cloned().unwrap_or_default();
    for policy in policies {
        for st in policy["Statement"].as_sequence().cloned().unwrap_or_default() {
            // `!If [Condition, statement, !Ref AWS::NoValue]`: the statement, under its condition.
            let (st, only_if) = match &st {
                Value::Tagged(t) if t.tag == "!If" => {
                    let parts = t.value.as_sequence().cloned().unwrap_or_default();
                    (
                        parts.get(1).cloned().unwrap_or(Value::Null),
                        parts.first().and_then(Value::as_str).map(String::from),
                    )
                }
                _ => (st.clone(), None),
            };
            assert_eq!(st["Effect"].as_str(), Some("Allow"), "{st:?}");
            let actions: Vec<String> = match &st["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Sequence(s) => s.iter().filter_map(Value::as_str).map(String::from).collect(),
                other => panic!("Action {other:?}"),
            };
            let resources: Vec<String> = match &st["Resource"] {
                Value::Sequence(s) => s.iter().map(render_resource).collect(),
                other => vec![render_resource(other)],
            };
            let leading_keys = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                .as_sequence()
                .map(|keys| keys.iter().filter_map(Value::as_str).map(String::from).collect::<Vec<_>>());
            for a in &actions {
                for r in &resources {
                    out.push(Grant {
                        action: a.clone(),
                        resource: r.clone(),
                        leading_keys: leading_keys.clone(),
                        only_if: only_if.clone(),
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// Least privilege, proven against the template: each function is granted exactly what its
/// code uses (the table below, reviewed with the code), no function but ingest (verifying
/// webhooks and callbacks), notify-supplier (signing, suppliers' branch only) and validate (the
/// fingerprint key only) can read a secret, catalog writes are scoped by key prefix so no function writes a supplier (its
/// endpoint) or the routing configuration, and nothing is granted on a wildcard KMS key.
#[test]
fn every_function_is_granted_exactly_what_it_needs() {
    let t = template();
    let res = resources(&t);
    let secrets = "ssm:${SecretsPath}";
    let stock_and_outcomes = Some(vec!["HOLD#*", "STOCK#*", "SKU#*", "OUTCOME#*", "PERFORMANCE#*"]);
    let g = |action: &str, resource: &str, keys: &Option<Vec<&str>>, only_if: Option<&str>| Grant {
        action: action.into(),
        resource: resource.into(),
        leading_keys: keys.as_ref().map(|k| k.iter().map(|s| s.to_string()).collect()),
        only_if: only_if.map(String::from),
    };
    let none = None;
    let events = |f: &mut Vec<Grant>| f.push(g("events:PutEvents", "EventBus", &none, None));
    let orders_rw = |f: &mut Vec<Grant>| {
        for a in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"] {
            f.push(g(a, "OrdersTable", &none, None));
        }
    };
    let consume = |f: &mut Vec<Grant>, queue: &str| {
        for a in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"] {
            f.push(g(a, queue, &none, None));
        }
    };
    let idempotency = |f: &mut Vec<Grant>| {
        for a in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"] {
            f.push(g(a, "IdempotencyTable", &none, None));
        }
    };
    let kms = |f: &mut Vec<Grant>| f.push(g("kms:Decrypt", "Ref:SecretsKmsKeyArn", &none, Some("HasSecretsKey")));
    let mut needs: BTreeMap<&str, Vec<Grant>> = BTreeMap::new();

    let mut f = Vec::new();
    orders_rw(&mut f);
    idempotency(&mut f);
    f.push(g("dynamodb:BatchGetItem", "CatalogTable", &none, None));
    f.push(g("dynamodb:PutItem", "CatalogTable", &stock_and_outcomes, None));
    f.push(g("dynamodb:UpdateItem", "CatalogTable", &stock_and_outcomes, None));
    f.push(g("sqs:SendMessage", "ValidateQueue", &none, None));
    f.push(g("sqs:SendMessage", "RouteQueue", &none, None));
    events(&mut f);
    for a in ["ssm:GetParametersByPath", "ssm:GetParameter"] {
        f.push(g(a, secrets, &none, None));
        f.push(g(a, &format!("{secrets}/*"), &none, None));
    }
    kms(&mut f);
    needs.insert("IngestFunction", f);

    let mut f = Vec::new();
    for a in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"] {
        f.push(g(a, "OrdersTable", &none, None));
        for i in ["by-status", "by-customer-email", "by-customer-address"] {
            f.push(g(a, &format!("OrdersTable/index/{i}"), &none, None));
        }
    }
    for a in ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"] {
        f.push(g(a, "CatalogTable", &none, None));
    }
    f.push(g("sqs:SendMessage", "RouteQueue", &none, None));
    consume(&mut f, "ValidateQueue");
    events(&mut f);
    f.push(g("ssm:GetParameter", &format!("{secrets}/fingerprints"), &none, None));
    kms(&mut f);
    needs.insert("ValidateFunction", f);

    let mut f = Vec::new();
    orders_rw(&mut f);
    for a in ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"] {
        f.push(g(a, "CatalogTable", &none, None));
    }
    f.push(g("dynamodb:PutItem", "CatalogTable", &stock_and_outcomes, None));
    f.push(g("dynamodb:UpdateItem", "CatalogTable", &stock_and_outcomes, None));
    f.push(g("sqs:SendMessage", "NotifyQueue", &none, None));
    consume(&mut f, "RouteQueue");
    events(&mut f);
    f.push(g("ssm:GetParameter", "ssm:${Name}", &none, Some("RoutingFromSsm")));
    needs.insert("RouteFunction", f);

    let mut f = Vec::new();
    orders_rw(&mut f);
    idempotency(&mut f);
    for a in ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"] {
        f.push(g(a, "CatalogTable", &none, None));
    }
    let stock = Some(vec!["HOLD#*", "STOCK#*", "SKU#*"]);
    f.push(g("dynamodb:PutItem", "CatalogTable", &stock, None));
    f.push(g("dynamodb:UpdateItem", "CatalogTable", &stock, None));
    f.push(g("sqs:SendMessage", "RouteQueue", &none, None));
    consume(&mut f, "NotifyQueue");
    events(&mut f);
    for a in ["ssm:GetParametersByPath", "ssm:GetParameter"] {
        f.push(g(a, &format!("{secrets}/suppliers"), &none, None));
        f.push(g(a, &format!("{secrets}/suppliers/*"), &none, None));
    }
    kms(&mut f);
    needs.insert("NotifySupplierFunction", f);

    let mut f = Vec::new();
    orders_rw(&mut f);
    f.push(g("dynamodb:Query", "OrdersTable/index/tracking-due", &none, None));
    events(&mut f);
    needs.insert("PollTrackingFunction", f);

    let mut f = Vec::new();
    orders_rw(&mut f);
    let outcomes = Some(vec!["OUTCOME#*", "PERFORMANCE#*"]);
    f.push(g("dynamodb:PutItem", "CatalogTable", &outcomes, None));
    f.push(g("dynamodb:UpdateItem", "CatalogTable", &outcomes, None));
    f.push(g("dynamodb:Query", "OrdersTable/index/by-status", &none, None));
    f.push(g("dynamodb:Query", "OrdersTable/index/outbox-due", &none, None));
    for q in ["ValidateQueue", "RouteQueue", "NotifyQueue"] {
        f.push(g("sqs:SendMessage", q, &none, None));
    }
    events(&mut f);
    needs.insert("EscalateFunction", f);

    let functions = of_type(&res, "AWS::Serverless::Function");
    assert_eq!(functions.len(), needs.len(), "a function without a row in this table");
    for (name, function) in functions {
        let granted = grants(function);
        let mut expected = needs.get(name.as_str()).unwrap_or_else(|| panic!("{name}: no row")).clone();
        expected.sort();
        let extra: Vec<&Grant> = granted.iter().filter(|x| !expected.contains(x)).collect();
        let missing: Vec<&Grant> = expected.iter().filter(|x| !granted.contains(x)).collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{name}:\n granted beyond its needs: {extra:#?}\n missing: {missing:#?}"
        );
        for x in &granted {
            assert!(!x.action.ends_with(":*") && x.resource != "*", "{name}: wildcard grant {x:?}");
            assert!(!x.resource.contains("key/*"), "{name}: wildcard KMS key {x:?}");
            let secret_read = x.action.starts_with("ssm:") && x.resource.starts_with(secrets);
            assert!(
                !secret_read
                    || name == "IngestFunction"
                    || (name == "NotifySupplierFunction" && x.resource.starts_with(&format!("{secrets}/suppliers")))
                    || (name == "ValidateFunction" && x.resource == format!("{secrets}/fingerprints")),
                "{name} reads secrets it does not need: {x:?}"
            );
            let catalog_write = x.resource == "CatalogTable"
                && !matches!(x.action.as_str(), "dynamodb:BatchGetItem" | "dynamodb:GetItem" | "dynamodb:Query");
            if catalog_write {
                let keys = x.leading_keys.as_ref().unwrap_or_else(|| panic!("{name}: unscoped catalog write {x:?}"));
                assert!(
                    keys.iter().all(|k| !k.starts_with('*')
                        && !"SUPPLIER#".starts_with(k.trim_end_matches('*'))
                        && !k.starts_with("ROUTING")),
                    "{name} may write supplier or routing items: {x:?}"
                );
            }
        }
    }
}

/// checkov runs in `make test` and fails on any finding not skipped in the template; a skip
/// must say why (a reason a reviewer can check), never be bare.
#[test]
fn every_scanner_skip_says_why() {
    let t = template();
    let mut skips = 0;
    for (name, r) in resources(&t) {
        for s in r["Metadata"]["checkov"]["skip"].as_sequence().cloned().unwrap_or_default() {
            skips += 1;
            let id = s["id"].as_str().unwrap_or_default();
            let why = s["comment"].as_str().unwrap_or_default();
            assert!(id.starts_with("CKV_"), "{name}: skip without a check id: {s:?}");
            assert!(why.split_whitespace().count() >= 8, "{name}: skip {id} without a reason");
        }
    }
    assert!(skips > 0, "the skips were read");
}

/// Sized for 1,000 orders/s: each route's throttle takes its share of the requests with
/// headroom, each queue's consumer can drain its queue faster than orders arrive, and the
/// reserved concurrency covers what the event sources may run.
#[test]
fn throttles_and_concurrency_are_sized_for_1000_orders_per_second() {
    const ORDERS_PER_SECOND: f64 = 1000.0;
    // A store sends about two webhooks per order (created, then updated); a supplier answers
    // about twice (the acknowledgment, the shipment).
    const REQUESTS_PER_ORDER: f64 = 2.0;
    // How long ingest's invocation takes per request (its DynamoDB and SQS calls), with margin.
    const INGEST_SECONDS: f64 = 0.05;
    // How long one batch of an SQS consumer takes (its records run concurrently): a few
    // DynamoDB round trips, or a supplier's HTTP answer for notify-supplier, with margin.
    let batch_seconds = |function: &str| if function == "NotifySupplierFunction" { 0.5 } else { 0.25 };
    const HEADROOM: f64 = 1.5;

    let t = template();
    let res = resources(&t);
    let api = &res["HttpApi"]["Properties"];
    let limits = |v: &Value| {
        (v["ThrottlingRateLimit"].as_f64().unwrap_or(0.0), v["ThrottlingBurstLimit"].as_f64().unwrap_or(0.0))
    };
    let routes = api["RouteSettings"].as_mapping().expect("per-route throttles");
    assert_eq!(routes.len(), 3, "the two store webhooks and the supplier callbacks");
    let mut total_rate = 0.0;
    for (route, v) in routes {
        let (rate, burst) = limits(v);
        let need = ORDERS_PER_SECOND * REQUESTS_PER_ORDER * HEADROOM;
        assert!(rate >= need, "{route:?}: {rate} requests/s < {need}");
        assert!(burst >= rate && burst <= 5000.0, "{route:?}: burst {burst} between its rate and the account's 5,000");
        total_rate += rate;
    }
    let (default_rate, default_burst) = limits(&api["DefaultRouteSettings"]);
    assert!(
        default_rate >= ORDERS_PER_SECOND * REQUESTS_PER_ORDER * 2.0,
        "the default covers orders and callbacks together"
    );
    assert!(default_burst <= 5000.0 && default_rate <= 10_000.0, "within the account's HTTP API limits");
    assert!(total_rate > default_rate, "the routes share the default, each capped on its own");

    let reserved = |f: &Value| -> f64 {
        let v = &f["Properties"]["ReservedConcurrentExecutions"];
        let branches = match v {
            Value::Tagged(t) if t.tag == "!If" || t.tag == "If" => t.value.as_sequence(),
            _ => v["Fn::If"].as_sequence(),
        };
        branches.and_then(|s| s.get(1)).and_then(Value::as_f64).unwrap_or(0.0)
    };
    let functions = of_type(&res, "AWS::Serverless::Function");
    let mut total_reserved = 0.0;
    for (name, f) in &functions {
        let r = reserved(f);
        assert!(r >= 1.0, "{name} reserves concurrency");
        total_reserved += r;
        let Some(events) = f["Properties"]["Events"].as_mapping() else { continue };
        for e in events.values().filter(|e| e["Type"].as_str() == Some("SQS")) {
            let p = &e["Properties"];
            let batch = p["BatchSize"].as_f64().expect("batch size");
            let concurrency = p["ScalingConfig"]["MaximumConcurrency"].as_f64().expect("maximum concurrency");
            let per_second = concurrency * batch / batch_seconds(name);
            assert!(
                per_second >= ORDERS_PER_SECOND * HEADROOM,
                "{name}: {concurrency} x {batch} per {} s = {per_second} messages/s",
                batch_seconds(name)
            );
            assert!(r >= concurrency, "{name}: reserves {r}, below its event source's {concurrency}");
        }
    }
    let ingest = reserved(&res["IngestFunction"]);
    let need = ORDERS_PER_SECOND * REQUESTS_PER_ORDER * 2.0 * INGEST_SECONDS;
    assert!(ingest >= need, "ingest reserves {ingest} < {need} for orders and callbacks");
    let described = t["Parameters"]["ReserveConcurrency"]["Description"].as_str().expect("description");
    let floor = (total_reserved + 100.0) as u64;
    assert!(
        described.contains(&format!("at least {floor}")),
        "the parameter names the account limit it needs ({floor}): {described}"
    );
}
