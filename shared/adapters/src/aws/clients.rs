//! The SDK clients, built once per process from one shared configuration, each on first use, so
//! that a function links and builds only the services its features enable.

use super::request_counter::RequestCounter;
use std::sync::{Arc, OnceLock};

/// The shared AWS configuration (region, credentials, `AWS_ENDPOINT_URL_*`) and the clients
/// built from it. Cloning shares the clients (and their connection pools).
#[derive(Clone, Debug)]
pub struct AwsClients(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    conf: aws_config::SdkConfig,
    requests: RequestCounter,
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

    #[cfg(feature = "dynamodb")]
    pub fn dynamodb(&self) -> &aws_sdk_dynamodb::Client {
        let i = &self.0;
        i.dynamodb.get_or_init(|| {
            aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&i.conf).interceptor(i.requests.clone()).build(),
            )
        })
    }

    #[cfg(feature = "sqs")]
    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        let i = &self.0;
        i.sqs.get_or_init(|| {
            aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(&i.conf).interceptor(i.requests.clone()).build(),
            )
        })
    }

    #[cfg(feature = "eventbridge")]
    pub fn eventbridge(&self) -> &aws_sdk_eventbridge::Client {
        let i = &self.0;
        i.eventbridge.get_or_init(|| {
            aws_sdk_eventbridge::Client::from_conf(
                aws_sdk_eventbridge::config::Builder::from(&i.conf).interceptor(i.requests.clone()).build(),
            )
        })
    }

    #[cfg(feature = "ssm")]
    pub fn ssm(&self) -> &aws_sdk_ssm::Client {
        let i = &self.0;
        i.ssm.get_or_init(|| {
            aws_sdk_ssm::Client::from_conf(
                aws_sdk_ssm::config::Builder::from(&i.conf).interceptor(i.requests.clone()).build(),
            )
        })
    }
}
