//! Local infrastructure: creates the tables, queues (with dead-letter queues), event bus and
//! secrets that the SAM template creates in AWS, on the emulators (or any endpoint). Used by
//! `make dev` and the tests.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use dropline_adapters::aws::{
    ADDRESS_INDEX, AwsClients, DUPLICATE_INDEX_ATTRIBUTES, EMAIL_INDEX, OUTBOX_INDEX, QueueUrls, STATUS_INDEX,
    TRACKING_INDEX,
};
use dropline_domain::wire::messages::Step;

/// Names of everything one stack uses.
#[derive(Debug, Clone)]
pub struct Infra {
    pub prefix: String,
    pub orders_table: String,
    pub idempotency_table: String,
    pub catalog_table: String,
    pub event_bus: String,
    pub queues: QueueUrls,
    pub secrets_path: String,
}

/// Queue settings for provisioning.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    pub visibility_timeout_s: u32,
    pub max_receive_count: u32,
}

/// The local queues' visibility timeout: a message a crashed invocation held comes back after it.
pub const QUEUE_VISIBILITY_SECONDS: u32 = 30;

impl Default for QueueSettings {
    fn default() -> Self {
        Self { visibility_timeout_s: QUEUE_VISIBILITY_SECONDS, max_receive_count: 5 }
    }
}

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

fn key(name: &str, t: KeyType) -> Result<KeySchemaElement, String> {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().map_err(|e| err("key schema", e))
}

fn attr(name: &str, t: ScalarAttributeType) -> Result<AttributeDefinition, String> {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().map_err(|e| err("attribute", e))
}

fn gsi(name: &str, hash: &str, range: &str, projection: ProjectionType) -> Result<GlobalSecondaryIndex, String> {
    gsi_with(name, hash, range, Projection::builder().projection_type(projection).build())
}

fn gsi_with(name: &str, hash: &str, range: &str, projection: Projection) -> Result<GlobalSecondaryIndex, String> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash)?)
        .key_schema(key(range, KeyType::Range)?)
        .projection(projection)
        .build()
        .map_err(|e| err("index", e))
}

/// The duplicate indexes copy a few non-personal attributes besides their keys.
fn duplicate_index(name: &str, hash: &str) -> Result<GlobalSecondaryIndex, String> {
    let mut p = Projection::builder().projection_type(ProjectionType::Include);
    for a in DUPLICATE_INDEX_ATTRIBUTES {
        p = p.non_key_attributes(a);
    }
    gsi_with(name, hash, "placed_at", p.build())
}

async fn create_table(
    aws: &AwsClients,
    name: &str,
    pk: &str,
    extra_attrs: Vec<AttributeDefinition>,
    indexes: Vec<GlobalSecondaryIndex>,
) -> Result<(), String> {
    let mut req = aws
        .dynamodb()
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(pk, KeyType::Hash)?)
        .attribute_definitions(attr(pk, ScalarAttributeType::S)?);
    for a in extra_attrs {
        req = req.attribute_definitions(a);
    }
    for i in indexes {
        req = req.global_secondary_indexes(i);
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => Ok(()),
        Err(e) => Err(err(&format!("create table {name}"), aws_sdk_dynamodb::error::DisplayErrorContext(e))),
    }
}

/// Creates (or reuses) everything the pipeline needs, named after `prefix`.
pub async fn provision(aws: &AwsClients, prefix: &str, settings: QueueSettings) -> Result<Infra, String> {
    let infra_name = |s: &str| format!("{prefix}-{s}");
    let orders_table = infra_name("orders");
    let idempotency_table = infra_name("idempotency");
    let catalog_table = infra_name("catalog");
    create_table(
        aws,
        &orders_table,
        "pk",
        vec![
            attr("status_shard", ScalarAttributeType::S)?,
            attr("status_since", ScalarAttributeType::N)?,
            attr("tracking_bucket", ScalarAttributeType::S)?,
            attr("tracking_due_at", ScalarAttributeType::N)?,
            attr("outbox_bucket", ScalarAttributeType::S)?,
            attr("outbox_due_at", ScalarAttributeType::N)?,
            attr("email_key", ScalarAttributeType::S)?,
            attr("address_key", ScalarAttributeType::S)?,
            attr("placed_at", ScalarAttributeType::N)?,
        ],
        vec![
            gsi(STATUS_INDEX, "status_shard", "status_since", ProjectionType::KeysOnly)?,
            gsi(TRACKING_INDEX, "tracking_bucket", "tracking_due_at", ProjectionType::KeysOnly)?,
            gsi(OUTBOX_INDEX, "outbox_bucket", "outbox_due_at", ProjectionType::KeysOnly)?,
            duplicate_index(EMAIL_INDEX, "email_key")?,
            duplicate_index(ADDRESS_INDEX, "address_key")?,
        ],
    )
    .await?;
    create_table(aws, &idempotency_table, "id", vec![], vec![]).await?;
    let ttl = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expiration")
        .build()
        .map_err(|e| err("ttl", e))?;
    if let Err(e) =
        aws.dynamodb().update_time_to_live().table_name(&idempotency_table).time_to_live_specification(ttl).send().await
    {
        // Emulators may not implement TTL; expiry is always checked in code anyway.
        tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(e), "TTL not enabled");
    }
    create_table(aws, &catalog_table, "pk", vec![], vec![]).await?;

    let mut queues = QueueUrls::default();
    for step in Step::ALL {
        let dlq = aws
            .sqs()
            .create_queue()
            .queue_name(infra_name(&format!("{step}-dlq")))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .map_err(|e| err("create DLQ", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
        let attrs = aws
            .sqs()
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| err("DLQ arn", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        let policy =
            serde_json::json!({"deadLetterTargetArn": arn, "maxReceiveCount": settings.max_receive_count}).to_string();
        let q = aws
            .sqs()
            .create_queue()
            .queue_name(infra_name(step.as_str()))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, policy)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
                settings.visibility_timeout_s.to_string(),
            )
            .send()
            .await
            .map_err(|e| err("create queue", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        queues = queues.with(step, q.queue_url().unwrap_or_default()).with_dlq(step, dlq_url);
    }

    let event_bus = infra_name("bus");
    if let Err(e) = aws.eventbridge().create_event_bus().name(&event_bus).send().await {
        let already = e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception());
        if !already {
            return Err(err("create event bus", aws_sdk_eventbridge::error::DisplayErrorContext(e)));
        }
    }
    Ok(Infra {
        prefix: prefix.to_string(),
        orders_table,
        idempotency_table,
        catalog_table,
        event_bus,
        queues,
        secrets_path: format!("/{prefix}/secrets"),
    })
}

/// Stores a secret as a SecureString parameter under the infra's secrets path.
pub async fn put_secret(aws: &AwsClients, infra: &Infra, name: &str, value: &str) -> Result<(), String> {
    aws.ssm()
        .put_parameter()
        .name(format!("{}/{}", infra.secrets_path, name.trim_matches('/')))
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| err("put parameter", aws_sdk_ssm::error::DisplayErrorContext(e)))?;
    Ok(())
}
