//! Secrets from SSM Parameter Store.

use super::errors::classify;
use dropline_app::ports::PortResult;
use dropline_domain::wire::secrets::SecretBook;

/// Loads every parameter under `path` (recursively, decrypted) into a secret book, names taken
/// relative to `path`.
pub async fn load_secrets(client: &aws_sdk_ssm::Client, path: &str) -> PortResult<SecretBook> {
    load_secrets_under(client, path, None).await
}

/// Loads only the secrets below `root/scope` (e.g. `suppliers`), named relative to `root` as
/// [`load_secrets`] names them: a function allowed to read one branch reads only that branch.
pub async fn load_secrets_under(
    client: &aws_sdk_ssm::Client,
    root: &str,
    scope: Option<&str>,
) -> PortResult<SecretBook> {
    let root = format!("/{}", root.trim_matches('/'));
    let path = match scope {
        Some(s) => format!("{root}/{}", s.trim_matches('/')),
        None => root.clone(),
    };
    let mut book = SecretBook::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .get_parameters_by_path()
            .path(&path)
            .recursive(true)
            .with_decryption(true)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| classify("GetParametersByPath", e))?;
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                let rel = name.strip_prefix(&root).unwrap_or(name);
                book.insert(rel, value);
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(book)
}

/// The secrets below `root/scope`, read again whenever asked (a `SecretCache` asks after its TTL).
pub struct SsmSecrets {
    pub client: aws_sdk_ssm::Client,
    pub root: String,
    pub scope: Option<String>,
}

#[async_trait::async_trait]
impl dropline_app::ports::SecretSource for SsmSecrets {
    async fn load(&self) -> PortResult<SecretBook> {
        load_secrets_under(&self.client, &self.root, self.scope.as_deref()).await
    }
}

/// One secret, `root/name` (decrypted); None when it does not exist.
pub async fn load_secret(client: &aws_sdk_ssm::Client, root: &str, name: &str) -> PortResult<Option<String>> {
    let full = format!("/{}/{}", root.trim_matches('/'), name.trim_matches('/'));
    match client.get_parameter().name(&full).with_decryption(true).send().await {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(String::from)),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => Ok(None),
        Err(e) => Err(classify("GetParameter", e)),
    }
}
