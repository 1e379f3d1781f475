//! The SDK clients, built once per process from one shared configuration, each on first use, so
//! that a function links and builds only the services its features enable.

use super::request_counter::RequestCounter;
use std::sync::Arc;
#[cfg(any(feature = "dynamodb", feature = "sqs", feature = "eventbridge", feature = "ssm"))]
use std::sync::OnceLock;

/// The shared AWS configuration (region, credentials, `AWS_ENDPOINT_URL_*`) and the clients
/// built from it. Cloning shares the clients (and their connection pools).
#[derive(Clone, Debug)]
pub struct AwsClients(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    // Read only by the clients the enabled features build.
    #[cfg_attr(
        not(any(feature = "dynamodb", feature = "sqs", feature = "eventbridge", feature = "ssm")),
        allow(dead_code)
    )]
    conf: aws_config::SdkConfig,
    requests: RequestCounter,
    /// Measures DynamoDB capacity and partition heat (the bench's clients only).
    #[cfg(feature = "dynamodb")]
    meter: Option<super::capacity_meter::CapacityMeter>,
    #[cfg(feature = "dynamodb")]
    dynamodb: OnceLock<aws_sdk_dynamodb::Client>,
    #[cfg(feature = "sqs")]
    sqs: OnceLock<aws_sdk_sqs::Client>,
    #[cfg(feature = "eventbridge")]
    eventbridge: OnceLock<aws_sdk_eventbridge::Client>,
    #[cfg(feature = "ssm")]
    ssm: OnceLock<aws_sdk_ssm::Client>,
}

impl AwsClients {
    /// Loads the shared configuration from the environment. Building a client is cheap:
    /// connections open on first use.
    pub async fn from_env() -> Self {
        let conf = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_conf(&conf)
    }

    pub fn from_conf(conf: &aws_config::SdkConfig) -> Self {
        Self(Arc::new(Inner {
            conf: conf.clone(),
            requests: RequestCounter::default(),
            #[cfg(feature = "dynamodb")]
            meter: None,
            #[cfg(feature = "dynamodb")]
            dynamodb: OnceLock::new(),
            #[cfg(feature = "sqs")]
            sqs: OnceLock::new(),
            #[cfg(feature = "eventbridge")]
            eventbridge: OnceLock::new(),
            #[cfg(feature = "ssm")]
            ssm: OnceLock::new(),
        }))
    }

    /// Every request the clients made, by `Service.Operation`.
    pub fn requests(&self) -> &RequestCounter {
        &self.0.requests
    }

    /// Clients whose DynamoDB client also reports to `meter` (for measurements: the meter
    /// remembers every item it saw written).
    #[cfg(feature = "dynamodb")]
    pub fn metered(conf: &aws_config::SdkConfig, meter: super::capacity_meter::CapacityMeter) -> Self {
        let mut inner = Self::from_conf(conf);
        if let Some(i) = Arc::get_mut(&mut inner.0) {
            i.meter = Some(meter);
        }
        inner
    }

    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        let i = &self.0;
        i.dynamodb.get_or_init(|| {
            let mut b = aws_sdk_dynamodb::config::Builder::from(&i.conf).interceptor(i.requests.clone());
            if let Some(m) = &i.meter {
                b = b.interceptor(m.clone());
            }
            aws_sdk_dynamodb::Client::from_conf(b.build())
        })
    }
}

/// `AwsClients::$name()`: the `$sdk` client, built on first use from the shared configuration
/// with the request counter attached, behind the `$feature` feature.
macro_rules! client {
    ($feature:literal, $name:ident, $sdk:ident) => {
        impl AwsClients {
            #[cfg(feature = $feature)]
            pub fn $name(&self) -> &$sdk::Client {
                let i = &self.0;
                i.$name.get_or_init(|| {
                    $sdk::Client::from_conf(
                        $sdk::config::Builder::from(&i.conf).interceptor(i.requests.clone()).build(),
                    )
                })
            }
        }
    };
}

client!("sqs", sqs, aws_sdk_sqs);
client!("eventbridge", eventbridge, aws_sdk_eventbridge);
/// How SSM calls retry. Every cold start reads its secrets with `GetParametersByPath`, and a
/// scale-out starts hundreds of instances at once: SSM throttles them (about 40 calls/s per
/// account by default). Adaptive retry waits out the throttle with jittered backoff and a client-side
/// rate limit, well within a function's 10 s init, instead of failing the init after 3 attempts.
#[cfg(feature = "ssm")]
pub fn ssm_retry() -> aws_sdk_ssm::config::retry::RetryConfig {
    aws_sdk_ssm::config::retry::RetryConfig::adaptive()
        .with_max_attempts(8)
        .with_initial_backoff(std::time::Duration::from_millis(100))
        .with_max_backoff(std::time::Duration::from_secs(2))
}

impl AwsClients {
    /// The SSM client, retrying throttled cold-start reads ([`ssm_retry`]).
    #[cfg(feature = "ssm")]
    pub fn ssm(&self) -> &aws_sdk_ssm::Client {
        let i = &self.0;
        i.ssm.get_or_init(|| {
            aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&i.conf)
                    .retry_config(ssm_retry())
                    .interceptor(i.requests.clone())
                    .build(),
            )
        })
    }
}

#[cfg(all(test, feature = "ssm"))]
mod tests {
    #[test]
    fn ssm_reads_outlast_a_scale_out_throttle() {
        let conf = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();
        let clients = super::AwsClients::from_conf(&conf);
        let retry = clients.ssm().config().retry_config().expect("a retry configuration");
        assert_eq!(retry.mode(), aws_sdk_ssm::config::retry::RetryMode::Adaptive);
        assert_eq!(retry.max_attempts(), 8);
        // The backoffs add up to well under a function's 10 s init.
        let worst: std::time::Duration = (0..retry.max_attempts() - 1)
            .map(|n| (retry.initial_backoff() * 2u32.pow(n)).min(retry.max_backoff()))
            .sum();
        assert!(worst < std::time::Duration::from_secs(10), "{worst:?}");
    }
}
