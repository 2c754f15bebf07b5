//! Logging. Spans and events carry ids only: never a child's name, date of birth, notes,
//! contact details or any other personal data (see `docs/architecture.md`, "What never
//! to log").

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: human-readable by default, JSON lines when
/// `BACKBONE_LOG_FORMAT=json`; level from `RUST_LOG` (default `info`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("BACKBONE_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
