//! The layout's rules, checked so they cannot regress: the domain depends on nothing that does
//! I/O, its modules depend on each other one way only (and docs/ARCHITECTURE.md shows that graph),
//! no function's handler names an adapter, and each function links only the AWS clients its
//! `main.rs` uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The packages `cargo tree` lists for `package` (normal dependencies, features as `package`
/// alone would build with).
fn dependencies(package: &str) -> BTreeSet<String> {
    tree(package, &[])
}

fn tree(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root())
        .args(["tree", "--offline", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .args(extra)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_whitespace().next()).map(String::from).collect()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_domain_depends_on_nothing_that_does_io() {
    let deps = dependencies("dropline-domain");
    let banned = ["tokio", "reqwest", "hyper", "aws-", "lambda_", "dropline-app", "dropline-adapters", "async-trait"];
    let found: Vec<&String> = deps.iter().filter(|d| banned.iter().any(|b| d.starts_with(b))).collect();
    assert!(found.is_empty(), "dropline-domain depends on {found:?}");
    assert!(deps.contains("serde"), "the tree was read: {deps:?}");
}

#[test]
fn the_application_layer_names_no_adapter_and_no_sdk() {
    let deps = dependencies("dropline-app");
    let found: Vec<&String> =
        deps.iter().filter(|d| d.starts_with("aws-") || *d == "reqwest" || *d == "dropline-adapters").collect();
    assert!(found.is_empty(), "dropline-app depends on {found:?}");
}

/// The domain's top-level modules and the ones each uses (`crate::<module>`), test code left out.
fn domain_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("shared/domain/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel.components().next().expect("a component").as_os_str().to_string_lossy().replace(".rs", "");
        if top == "lib" || rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        // Test modules come last in a file (clippy's items_after_test_module).
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let uses = graph.entry(top.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && name != top {
                uses.insert(name);
            }
        }
    }
    graph
}

#[test]
fn the_domain_modules_depend_on_each_other_one_way() {
    let graph = domain_graph();
    // Depth-first search for a back edge.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| *p == m) {
            panic!("dependency cycle among the domain's modules: {} -> {m}", path[at..].join(" -> "));
        }
        path.push(m);
        for d in graph.get(m).into_iter().flatten() {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(m);
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.contains_key("order") && graph.contains_key("primitives"), "{graph:?}");
}

#[test]
fn the_architecture_document_shows_the_domain_graph_as_it_is() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md");
    let marker = "```text domain-graph";
    let start = doc.find(marker).expect("docs/ARCHITECTURE.md has a ```text domain-graph block") + marker.len();
    let block = &doc[start..start + doc[start..].find("```").expect("the block ends")];
    let mut documented: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in block.lines().filter(|l| l.contains("->")) {
        let (from, to) = line.split_once("->").expect("an arrow");
        documented
            .entry(from.trim().to_string())
            .or_default()
            .extend(to.split(',').map(str::trim).filter(|t| !t.is_empty() && *t != "(nothing)").map(String::from));
    }
    let actual = domain_graph();
    assert_eq!(documented, actual, "docs/ARCHITECTURE.md's domain graph differs from the code");
}

#[test]
fn no_function_handler_names_an_adapter() {
    for function in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let src = function.expect("entry").path().join("src");
        for file in rust_files(&src) {
            if file.file_name().is_some_and(|n| n == "main.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("readable");
            assert!(
                !text.contains("dropline_adapters"),
                "{} names an adapter; only main.rs wires them",
                file.display()
            );
        }
    }
}

#[test]
fn each_function_handler_builds_without_any_adapter() {
    for function in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let name = function.expect("entry").file_name().to_string_lossy().to_string();
        let deps = tree(&format!("dropline-{name}"), &["--no-default-features"]);
        let found: Vec<&String> = deps
            .iter()
            .filter(|d| *d == "dropline-adapters" || d.starts_with("aws-sdk-") || *d == "aws-config")
            .collect();
        assert!(found.is_empty(), "{name}'s handler (--no-default-features) depends on {found:?}");
        assert!(deps.contains("dropline-app"), "{name}: the tree was read: {deps:?}");
    }
}

#[test]
fn each_function_links_only_the_aws_clients_its_main_uses() {
    for function in std::fs::read_dir(root().join("functions")).expect("functions/") {
        let dir = function.expect("entry").path();
        let name = dir.file_name().expect("a name").to_string_lossy().to_string();
        let main = std::fs::read_to_string(dir.join("src/main.rs")).expect("main.rs");
        let mut used = BTreeSet::new();
        for service in ["dynamodb", "sqs", "eventbridge", "ssm"] {
            if main.contains(&format!(".{service}()")) {
                used.insert(format!("aws-sdk-{service}"));
            }
        }
        if main.contains("routing_config_store(") {
            // The routing configuration lives in a DynamoDB item or an SSM parameter.
            used.insert("aws-sdk-dynamodb".into());
            used.insert("aws-sdk-ssm".into());
        }
        let linked: BTreeSet<String> = dependencies(&format!("dropline-{name}"))
            .into_iter()
            .filter(|d| ["aws-sdk-dynamodb", "aws-sdk-sqs", "aws-sdk-eventbridge", "aws-sdk-ssm"].contains(&d.as_str()))
            .collect();
        assert!(!used.is_empty(), "{name}: main.rs builds no AWS client?");
        assert_eq!(linked, used, "{name} links other AWS clients than its main.rs uses");
    }
}
