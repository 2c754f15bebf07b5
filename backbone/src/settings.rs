//! Typed settings, layered: defaults → optional TOML file (`backbone.toml` in the working
//! directory, or the file named by `BACKBONE_CONFIG`) → environment (`DATABASE_URL`, and
//! `BACKBONE_<SECTION>__<KEY>`, e.g. `BACKBONE_GRAPHQL__MAX_DEPTH=8`). Secrets never
//! appear in `Debug` output.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub graphql: GraphqlSettings,
    pub auth: AuthSettings,
    pub brokering: BrokeringSettings,
    /// Disclosure control of every aggregate a funder reaches (see `domain::disclosure`).
    pub disclosure: crate::domain::disclosure::Rules,
    pub metrics: MetricsSettings,
}

/// Shared metrics: how stale the summary tables may get, and what counts as engaged.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct MetricsSettings {
    /// The summary tables are rebuilt this often while the service runs (and on demand).
    pub refresh_minutes: u64,
    /// A child is *engaged* once they have attended at least this many sessions.
    pub engaged_after_sessions: i64,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://FILE?mode=rwc` or `postgres://…`. Empty means the embedded SQLite file.
    pub url: String,
    /// The embedded SQLite file used when `url` is empty.
    pub sqlite_file: PathBuf,
    pub max_connections: u32,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("sqlite_file", &self.sqlite_file)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// Largest accepted request body, in bytes; larger requests are refused unread.
    pub max_body_bytes: usize,
    /// Largest accepted file upload (a `multipart/form-data` request, such as
    /// `importAnchorData`), in bytes.
    pub max_upload_bytes: usize,
    /// A request taking longer than this is cut off.
    pub request_timeout_secs: u64,
    /// Serve the GraphiQL page at `/`.
    pub graphiql: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// How many operations one HTTP request may carry; 1 turns batching off.
    pub max_batch: usize,
    pub default_page_size: usize,
    pub max_page_size: usize,
    pub introspection: bool,
}

/// Signing in, and how hard guessing and flooding are made (see `auth::throttle` and
/// `http::RateLimiter`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthSettings {
    /// How long a bearer token from `login` lives.
    pub token_ttl_minutes: i64,
    /// Failed logins for one email address (whether or not an account has it) within
    /// `failure_window_secs` before that account is locked out. 0 turns the account
    /// throttle off.
    pub max_failures_per_account: u32,
    /// Failed logins from one client address within `failure_window_secs` before that
    /// address is locked out (higher than per account: a school's staff may share one
    /// address). 0 turns the address throttle off.
    pub max_failures_per_address: u32,
    /// How long failed logins are remembered, in seconds: failures older than this are
    /// forgotten, and so is a lockout's doubling once this long has passed after it.
    pub failure_window_secs: u64,
    /// The first lockout, in seconds. Each further lockout of the same account or
    /// address (before the window has passed) doubles it, up to `max_lockout_secs`.
    pub lockout_secs: u64,
    /// The longest lockout, in seconds.
    pub max_lockout_secs: u64,
    /// Reverse proxies (exact IP addresses) in front of the service. Only a request whose
    /// socket peer is one of these has its client address taken from `X-Forwarded-For`;
    /// empty (the default) means the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Requests per minute one bearer token may make to `/graphql`, counted in each
    /// process separately (several processes each allow this many). Over it the answer is
    /// `429` with `Retry-After`. 0 turns the limit off.
    pub requests_per_minute: u32,
}

/// When a child's attendance at a programme counts as dropping (an event for the link
/// worker): the rate falls below `attendance_alert_below` once at least
/// `attendance_alert_after_sessions` sessions have been offered.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BrokeringSettings {
    pub attendance_alert_below: f64,
    pub attendance_alert_after_sessions: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database: DatabaseSettings {
                url: String::new(),
                sqlite_file: PathBuf::from("backbone.db"),
                max_connections: 8,
            },
            server: ServerSettings {
                bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
                max_body_bytes: 64 * 1024,
                max_upload_bytes: 8 * 1024 * 1024,
                request_timeout_secs: 30,
                graphiql: false,
            },
            graphql: GraphqlSettings {
                max_depth: 10,
                max_complexity: 1000,
                max_aliases: 15,
                max_batch: 1,
                default_page_size: 20,
                max_page_size: 100,
                introspection: false,
            },
            auth: AuthSettings {
                token_ttl_minutes: 8 * 60,
                max_failures_per_account: 5,
                max_failures_per_address: 20,
                failure_window_secs: 15 * 60,
                lockout_secs: 60,
                max_lockout_secs: 60 * 60,
                trusted_proxies: Vec::new(),
                requests_per_minute: 300,
            },
            brokering: BrokeringSettings { attendance_alert_below: 0.75, attendance_alert_after_sessions: 3 },
            disclosure: crate::domain::disclosure::Rules::default(),
            metrics: MetricsSettings { refresh_minutes: 5, engaged_after_sessions: 6 },
        }
    }
}

impl Settings {
    /// Loads defaults, then the optional file, then the environment.
    pub fn load() -> anyhow::Result<Settings> {
        Ok(Self::figment().extract()?)
    }

    fn figment() -> Figment {
        let file = std::env::var("BACKBONE_CONFIG").unwrap_or_else(|_| "backbone.toml".into());
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("BACKBONE_").split("__").ignore(&["config"]))
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
    }

    /// The database URL to connect to: `database.url`, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            format!("sqlite://{}?mode=rwc", self.database.sqlite_file.display())
        } else {
            self.database.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact_url("postgres://bb:hunter2@db:5432/bb"), "postgres://bb:***@db:5432/bb");
        assert_eq!(redact_url("sqlite://backbone.db?mode=rwc"), "sqlite://backbone.db?mode=rwc");
        let s = Settings {
            database: DatabaseSettings { url: "postgres://bb:hunter2@db/bb".into(), ..Settings::default().database },
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "backbone.toml",
                "[graphql]\nmax_depth = 7\nmax_aliases = 9\n[server]\nbind = \"127.0.0.1:9000\"\n",
            )?;
            jail.set_env("BACKBONE_GRAPHQL__MAX_ALIASES", "3");
            jail.set_env("DATABASE_URL", "postgres://bb:pw@localhost/bb");
            let s = Settings::figment().extract::<Settings>()?;
            assert_eq!(s.graphql.max_depth, 7, "from the file");
            assert_eq!(s.graphql.max_aliases, 3, "the environment wins over the file");
            assert_eq!(s.server.bind.port(), 9000);
            assert_eq!(s.graphql.max_page_size, 100, "defaults fill the rest");
            assert_eq!(s.database_url(), "postgres://bb:pw@localhost/bb");
            Ok(())
        });
    }

    #[test]
    fn safe_defaults() {
        let s = Settings::default();
        assert_eq!(s.graphql.max_depth, 10);
        assert_eq!(s.graphql.max_aliases, 15);
        assert_eq!(s.graphql.max_batch, 1);
        assert_eq!(s.graphql.max_page_size, 100);
        assert_eq!(s.server.max_body_bytes, 65536);
        assert!(!s.graphql.introspection);
        assert!(s.database_url().starts_with("sqlite://backbone.db"));
        assert_eq!(s.auth.max_failures_per_account, 5, "guessing is throttled by default");
        assert!(s.auth.max_failures_per_address > 0);
        assert!(s.auth.lockout_secs > 0 && s.auth.max_lockout_secs >= s.auth.lockout_secs);
        assert!(s.auth.trusted_proxies.is_empty(), "X-Forwarded-For is ignored unless proxies are named");
        assert!(s.auth.requests_per_minute > 0, "the per-token rate limit is on by default");
    }
}
