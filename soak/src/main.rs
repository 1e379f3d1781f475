//! `make soak`: `dropline-soak [--seed N] [--orders N] [--no-faults]`. Prints the figures and
//! ends with `soak: <orders> orders, <faults> faults injected, <violations> violations`; exits
//! non-zero on any violation.

use dropline_soak::{SoakConfig, faults::Rates, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut cfg = SoakConfig { seed: 1, orders: 10_000, faults: Rates::DEFAULT, emulators: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed = match a.as_str() {
            "--seed" => {
                value("--seed").and_then(|v| v.parse().map_err(|e| format!("--seed: {e}"))).map(|v| cfg.seed = v)
            }
            "--orders" => {
                value("--orders").and_then(|v| v.parse().map_err(|e| format!("--orders: {e}"))).map(|v| cfg.orders = v)
            }
            "--no-faults" => {
                cfg.faults = Rates::NONE;
                Ok(())
            }
            "--emulators" => {
                cfg.emulators = true;
                Ok(())
            }
            other => {
                Err(format!("unknown argument {other:?}; expected --seed N, --orders N, --no-faults, --emulators"))
            }
        };
        if let Err(e) = parsed {
            eprintln!("dropline-soak: {e}");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dropline-soak: runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let report = match runtime.block_on(run(cfg)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dropline-soak: {e}");
            return ExitCode::from(2);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    print!(
        "{}",
        report.render().replace(
            &report.summary_line(),
            &format!(
                "time: {secs:.1} s ({:.2} s per 1,000 orders)\n{}",
                secs * 1000.0 / f64::from(cfg.orders.max(1)),
                report.summary_line()
            ),
        )
    );
    if report.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
