//! `dropline dlq`: list and redrive dead-letter queues.

use clap::{Subcommand, ValueEnum};
use dropline_adapters::aws::{AwsClients, QueueUrls, SqsWorkQueue};
use dropline_app::ports::QueueConsumer;
use dropline_domain::wire::messages::{Step, WorkMessage};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum StepArg {
    Validate,
    Route,
    #[value(alias = "notify")]
    NotifySupplier,
}

impl From<StepArg> for Step {
    fn from(s: StepArg) -> Step {
        match s {
            StepArg::Validate => Step::Validate,
            StepArg::Route => Step::Route,
            StepArg::NotifySupplier => Step::NotifySupplier,
        }
    }
}

#[derive(clap::Args)]
pub struct QueueArgs {
    /// The step whose dead-letter queue to use.
    step: StepArg,
    /// The step's queue URL (its DLQ is found from the queue's redrive policy). Defaults to
    /// DROPLINE_VALIDATE_QUEUE_URL, DROPLINE_ROUTE_QUEUE_URL or DROPLINE_NOTIFY_QUEUE_URL.
    #[arg(long)]
    queue_url: Option<String>,
}

impl QueueArgs {
    /// The step and a queue client for it.
    fn open(&self, aws: &AwsClients) -> Result<(Step, SqsWorkQueue), String> {
        let step: Step = self.step.into();
        Ok((step, SqsWorkQueue::new(aws.sqs().clone(), QueueUrls::default().with(step, self.url()?))))
    }

    fn url(&self) -> Result<String, String> {
        let var = match self.step {
            StepArg::Validate => "DROPLINE_VALIDATE_QUEUE_URL",
            StepArg::Route => "DROPLINE_ROUTE_QUEUE_URL",
            StepArg::NotifySupplier => "DROPLINE_NOTIFY_QUEUE_URL",
        };
        self.queue_url
            .clone()
            .or_else(|| std::env::var(var).ok())
            .ok_or_else(|| format!("give --queue-url or set {var}"))
    }
}

#[derive(Subcommand)]
pub enum DlqCommand {
    /// List the messages waiting in a step's dead-letter queue, with why they can't be processed.
    List {
        #[command(flatten)]
        queue: QueueArgs,
        #[arg(long, default_value_t = 50)]
        max: usize,
    },
    /// Move messages from a step's dead-letter queue back to its queue.
    Redrive {
        #[command(flatten)]
        queue: QueueArgs,
        #[arg(long, default_value_t = 1000)]
        max: usize,
    },
}

pub async fn run(command: DlqCommand) -> Result<ExitCode, String> {
    let aws = AwsClients::from_env().await;
    match command {
        DlqCommand::List { queue, max } => {
            let (step, q) = queue.open(&aws)?;
            let dead = q.peek_dead_letters(step, max).await.map_err(|e| e.to_string())?;
            println!("{} message(s) in the {step} dead-letter queue", dead.len());
            for m in dead {
                let verdict = match WorkMessage::parse(&m.body) {
                    Ok(w) => format!(
                        "order {} (failed in processing; see the function's logs for this order id)",
                        w.order_id
                    ),
                    Err(e) => format!("unreadable: {e}"),
                };
                println!(
                    "  {}  received {}x, sent {}  {}\n    body: {}",
                    m.message_id,
                    m.receive_count,
                    m.sent_at.to_rfc3339(),
                    verdict,
                    m.body
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Redrive { queue, max } => {
            let (step, q) = queue.open(&aws)?;
            let moved = q.redrive(step, max).await.map_err(|e| e.to_string())?;
            println!("moved {moved} message(s) back to the {step} queue");
            Ok(ExitCode::SUCCESS)
        }
    }
}
