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
    /// Input rules a deployment may tune: the earliest date an event may carry and how far
    /// a child's year group may differ from their age (see `domain::validate::Rules`).
    pub validation: crate::domain::validate::Rules,
    pub audit: AuditSettings,
    pub corrections: CorrectionSettings,
    pub worklist: WorklistSettings,
    pub break_glass: BreakGlassSettings,
}

/// Opening a record outside one's scope (see `domain::break_glass`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct BreakGlassSettings {
    /// How long an opening lasts, in hours; it is never extended, only opened again with
    /// a new reason.
    pub hours: u32,
}

/// When something goes on a worklist (see `domain::worklist`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct WorklistSettings {
    /// A support-plan review goes on the worklist this many days before it is due.
    pub review_due_within_days: i64,
    /// A referral sent and not answered for this many working days (Monday to Friday).
    pub unanswered_working_days: i64,
    /// A child taking part, not contacted for this many days.
    pub no_contact_days: i64,
    /// A consent is reviewed this many months after it was given, a lawful basis this
    /// many after it was recorded; each goes on the worklist `review_due_within_days`
    /// before then.
    pub consent_review_months: u32,
    /// (Partners) a programme with children placed on it and no register logged for this
    /// many days.
    pub register_due_days: i64,
}

/// Correcting what was recorded (see `domain::corrections`).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct CorrectionSettings {
    /// A partner corrects its own registers and progress notes for this many days after
    /// they were recorded; after that, the child's link worker or a backbone admin does.
    pub partner_window_days: i64,
}

/// The audit chain's key and its checkpoints, both held outside the database (see
/// `audit.rs` and docs/architecture.md, "The audit chain").
#[derive(Clone, Serialize, Deserialize)]
pub struct AuditSettings {
    /// The key itself, as 64 hex characters (32 bytes) — normally given as the environment
    /// variable `BACKBONE_AUDIT__KEY`, never written in a file that is committed. When set,
    /// it wins over `key_file`. Never printed.
    pub key: Option<String>,
    /// A file holding the key (64 hex characters). Empty means beside the SQLite file
    /// (`<file>.audit-key`), created with 0600 permissions the first time the database is
    /// opened. On PostgreSQL there is no default: give `key` or an existing `key_file`
    /// (create one with `backbone audit new-key --out FILE`).
    pub key_file: PathBuf,
    /// The file signed checkpoints of the chain head are appended to. Empty means beside
    /// the SQLite file (`<file>.audit-checkpoints`); on PostgreSQL it must be set. Keep it
    /// (or a copy) where someone who can write the database cannot.
    pub checkpoint_file: PathBuf,
    /// The running service appends a checkpoint this often when the chain has grown since
    /// the last one; 0 turns it off.
    pub checkpoint_minutes: u64,
    /// How soon after its transaction commits an event is chained: the sequencer runs this
    /// often (milliseconds). 0 means this process never chains (another one sharing the
    /// database does; or a test that drives `audit::chain` itself).
    pub chain_millis: u64,
}

impl fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditSettings")
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("key_file", &self.key_file)
            .field("checkpoint_file", &self.checkpoint_file)
            .field("checkpoint_minutes", &self.checkpoint_minutes)
            .field("chain_millis", &self.chain_millis)
            .finish()
    }
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
    /// How deep a value may nest lists and input objects — in a literal, a variable's
    /// default or type, a directive's argument, or the variables — before the request is
    /// refused (`BAD_REQUEST`, HTTP 400), unparsed: `[[1]]` is 2 deep. Parsing recurses on
    /// nesting, so this keeps a deep value from overflowing the stack.
    pub max_value_depth: usize,
    /// The most a query may cost (each field 1; a connection `first` × its fields, plus
    /// 1): above it the query is refused with its cost, the limit and what to lower. The
    /// default lets a caseload of 100 with enrolments, consents, referrals, assessments
    /// and progress through (5,401).
    pub max_complexity: usize,
    pub max_aliases: usize,
    /// How many operations one HTTP request may carry; 1 turns batching off.
    pub max_batch: usize,
    pub default_page_size: usize,
    pub max_page_size: usize,
    pub introspection: bool,
    /// How long an `Idempotency-Key` of a write is kept (and a retry with it replays the
    /// first answer), in hours.
    pub idempotency_key_hours: i64,
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
    /// Requests per minute one bearer token may make to `/graphql`, counted across every
    /// process on one PostgreSQL database (on SQLite, in the one process). Over it the answer is
    /// `429` with `Retry-After`. 0 turns the limit off.
    pub requests_per_minute: u32,
    /// How long a console session lives at most, in hours, however busy.
    pub console_session_hours: i64,
    /// A console session not used for this many minutes ends: the next page asks to sign
    /// in again.
    pub console_idle_minutes: i64,
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
                max_value_depth: 16,
                max_complexity: 10_000,
                max_aliases: 15,
                max_batch: 1,
                default_page_size: 20,
                max_page_size: 100,
                introspection: false,
                idempotency_key_hours: 24,
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
                console_session_hours: 10,
                console_idle_minutes: 30,
            },
            brokering: BrokeringSettings { attendance_alert_below: 0.75, attendance_alert_after_sessions: 3 },
            disclosure: crate::domain::disclosure::Rules::default(),
            metrics: MetricsSettings { refresh_minutes: 5, engaged_after_sessions: 6 },
            validation: crate::domain::validate::Rules::default(),
            audit: AuditSettings {
                key: None,
                key_file: PathBuf::new(),
                checkpoint_file: PathBuf::new(),
                checkpoint_minutes: 15,
                chain_millis: 200,
            },
            corrections: CorrectionSettings { partner_window_days: 14 },
            worklist: WorklistSettings {
                review_due_within_days: 14,
                unanswered_working_days: 10,
                no_contact_days: 21,
                consent_review_months: 12,
                register_due_days: 14,
            },
            break_glass: BreakGlassSettings { hours: 3 },
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

    /// The SQLite database file, when the database is one (not PostgreSQL, not in memory):
    /// the audit key and checkpoints default to files beside it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
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
    fn the_audit_key_is_never_printed() {
        let mut s = Settings::default();
        s.audit.key = Some("ab".repeat(32));
        let shown = format!("{s:?}");
        assert!(!shown.contains(&"ab".repeat(32)), "{shown}");
        assert!(shown.contains("key: Some(\"***\")"), "{shown}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn the_audit_key_comes_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("BACKBONE_AUDIT__KEY", "ab".repeat(32));
            jail.set_env("BACKBONE_AUDIT__CHECKPOINT_MINUTES", "0");
            let s = Settings::figment().extract::<Settings>()?;
            assert_eq!(s.audit.key.as_deref(), Some("ab".repeat(32).as_str()));
            assert_eq!(s.audit.checkpoint_minutes, 0);
            Ok(())
        });
    }

    #[test]
    fn the_sqlite_file_is_found_in_the_url() {
        let mut s = Settings::default();
        assert_eq!(s.sqlite_path(), Some(PathBuf::from("backbone.db")));
        s.database.url = "sqlite:///tmp/x/test.db?mode=rwc".into();
        assert_eq!(s.sqlite_path(), Some(PathBuf::from("/tmp/x/test.db")));
        s.database.url = "sqlite::memory:".into();
        assert_eq!(s.sqlite_path(), None);
        s.database.url = "postgres://bb@db/bb".into();
        assert_eq!(s.sqlite_path(), None);
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
        assert_eq!(s.graphql.max_value_depth, 16);
        assert_eq!(s.graphql.max_aliases, 15);
        assert_eq!(s.graphql.max_batch, 1);
        assert_eq!(s.graphql.idempotency_key_hours, 24);
        assert_eq!(s.graphql.max_page_size, 100);
        assert_eq!(s.server.max_body_bytes, 65536);
        assert!(!s.graphql.introspection);
        assert!(s.database_url().starts_with("sqlite://backbone.db"));
        assert_eq!(s.validation.year_group_tolerance, 1);
        assert_eq!(s.validation.earliest_event.to_string(), "2000-01-01");
        assert!(s.audit.key.is_none() && s.audit.key_file.as_os_str().is_empty());
        assert_eq!(s.audit.checkpoint_minutes, 15);
        assert_eq!(s.auth.max_failures_per_account, 5, "guessing is throttled by default");
        assert!(s.auth.max_failures_per_address > 0);
        assert!(s.auth.lockout_secs > 0 && s.auth.max_lockout_secs >= s.auth.lockout_secs);
        assert!(s.auth.trusted_proxies.is_empty(), "X-Forwarded-For is ignored unless proxies are named");
        assert!(s.auth.requests_per_minute > 0, "the per-token rate limit is on by default");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn validation_rules_are_read_from_file_and_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("backbone.toml", "[validation]\nearliest_event = \"2010-09-01\"\n")?;
            jail.set_env("BACKBONE_VALIDATION__YEAR_GROUP_TOLERANCE", "2");
            let s = Settings::figment().extract::<Settings>()?;
            assert_eq!(s.validation.earliest_event.to_string(), "2010-09-01");
            assert_eq!(s.validation.year_group_tolerance, 2);
            Ok(())
        });
    }
}
