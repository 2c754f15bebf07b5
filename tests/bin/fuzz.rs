//! `fuzz`: sends generated GraphQL documents to a running backbone service and fails on any
//! 5xx, any `INTERNAL` error or any lost connection (see `backbone_tests::fuzz`).
//!
//! ```text
//! fuzz --url http://127.0.0.1:8089 [--count 100000] [--seed N] [--demo] [--login EMAIL:PASSWORD]…
//! ```
//! `--demo` speaks as each demo account (and anonymously); the seed is printed, and with it
//! every failing document. Exit status 1 when anything was found.

use backbone_tests::fuzz::{self, Caller};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut count, mut seed, mut callers) = (None, 2_000usize, None, Vec::new());
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| anyhow::anyhow!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value()?.trim_end_matches('/').to_owned()),
            "--count" => count = value()?.parse()?,
            "--seed" => seed = Some(value()?.parse::<u64>()?),
            "--demo" => {
                for (email, _) in backbone::demo::DEMO_ACCOUNTS {
                    callers.push(Caller::account(email, backbone_seeds::DEMO_PASSWORD));
                }
            }
            "--login" => {
                let v = value()?;
                let (email, password) = v.split_once(':').ok_or_else(|| anyhow::anyhow!("--login EMAIL:PASSWORD"))?;
                callers.push(Caller::account(email, password));
            }
            other => anyhow::bail!("unknown argument {other}; see the top of tests/bin/fuzz.rs"),
        }
    }
    let url = url.ok_or_else(|| anyhow::anyhow!("--url http://127.0.0.1:PORT is required"))?;
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1)
    });
    println!("fuzz: seed {seed}, {count} documents against {url} as {} callers and anonymous", callers.len());
    let started = std::time::Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = runtime.block_on(fuzz::run(&url, seed, count, callers, &[], |r| {
        println!("  {} sent, {} findings ({:.0} s)", r.sent, r.findings.len(), started.elapsed().as_secs_f64());
    }));
    for finding in &report.findings {
        println!("FINDING (seed {seed}) {finding}");
    }
    println!("fuzz: {} in {:.0} s", report.summary(), started.elapsed().as_secs_f64());
    if !report.findings.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
