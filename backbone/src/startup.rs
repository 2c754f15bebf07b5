//! Building and running the application: connect, migrate, bind the audit key (and keep
//! checkpointing the chain), optionally seed the demo zone,
//! bind (port 0 works, and the bound port is reported), serve until stopped. Tests start
//! exactly this.

use crate::graphql::{Services, build_schema};
use crate::http::{AppState, router};
use crate::settings::Settings;
use crate::store::db;
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// How to start.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Seed the demo zone, allow the demo accounts to log in, and turn on GraphiQL and
    /// introspection. Refused unless bound to a loopback address.
    pub demo: bool,
    /// Counts every SQL statement the service runs (tests use it to show that batch
    /// loading keeps a request's statement count flat as lists grow).
    pub statement_counter: Option<Arc<std::sync::atomic::AtomicU64>>,
    /// A storage fault to inject between a commit and its answer (tests use it to show
    /// that an answer never contradicts the database): see [`CommitFault`].
    pub commit_fault: Option<Arc<CommitFault>>,
}

/// A fault injected for tests: once [armed](CommitFault::arm), the next audited write
/// commits and then every later statement fails, as if the storage went away between the
/// commit and the answer. It trips on the write's last statement (the audit chain head
/// moving to its new hash, just before `COMMIT`) and closes the connection pool: the
/// transaction holding its connection still commits; everything after — reading the
/// answer's nested fields, storing an idempotent answer, any other request — fails to
/// get a connection. It does not heal: start another [`Application`] on the same
/// database to go on.
#[derive(Debug, Default)]
pub struct CommitFault {
    armed: std::sync::atomic::AtomicBool,
    tripped: std::sync::atomic::AtomicBool,
}

impl CommitFault {
    /// Fails every statement after the next audited write commits.
    pub fn arm(&self) {
        self.armed.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether the fault happened.
    pub fn tripped(&self) -> bool {
        self.tripped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Called with every statement run: trips on a write's last one when armed.
    fn saw(&self, sql: &str, close: &dyn Fn()) {
        use std::sync::atomic::Ordering::SeqCst;
        // `INSERT INTO "audit_events" …`: `Audited::commit`'s last statement.
        let events_written = sql.starts_with("INSERT INTO \"audit_events\"");
        if events_written && self.armed.swap(false, SeqCst) {
            self.tripped.store(true, SeqCst);
            close();
        }
    }
}

/// Marks the pool closed (synchronously): later acquisitions fail at once.
fn closer(db: &DatabaseConnection) -> Box<dyn Fn() + Send + Sync> {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool().clone();
            Box::new(move || drop(pool.close()))
        }
        _ => {
            let pool = db.get_sqlite_connection_pool().clone();
            Box::new(move || drop(pool.close()))
        }
    }
}

/// A built application, bound and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    address: SocketAddr,
    db: DatabaseConnection,
}

impl Application {
    pub async fn build(mut settings: Settings, options: StartOptions) -> anyhow::Result<Application> {
        if options.demo {
            if !settings.server.bind.ip().is_loopback() {
                anyhow::bail!(
                    "demo mode has accounts with the password \"demo\": it only binds to a loopback address \
                     (127.0.0.1 or ::1), not {}",
                    settings.server.bind
                );
            }
            settings.server.graphiql = true;
            settings.graphql.introspection = true;
        }
        let mut db = db::connect(&settings.database_url(), settings.database.max_connections).await?;
        if options.statement_counter.is_some() || options.commit_fault.is_some() {
            let (counter, fault) = (options.statement_counter.clone(), options.commit_fault.clone());
            let close = closer(&db);
            db.set_metric_callback(move |info| {
                if let Some(counter) = &counter {
                    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if let Some(fault) = &fault {
                    fault.saw(&info.statement.sql, &*close);
                }
            });
        }
        db::migrate(&db).await?;
        let trust = crate::audit::Trust::load(&settings, crate::audit::IfMissing::Create)?;
        crate::audit::bind(&db, &trust).await?;
        if settings.audit.chain_millis > 0 {
            // Events a stopped process wrote but never chained are chained now.
            crate::audit::chain(&db).await?;
            let every = std::time::Duration::from_millis(settings.audit.chain_millis);
            tokio::spawn(crate::audit::keep_chaining(db.clone(), every));
        }
        if settings.audit.checkpoint_minutes > 0 {
            let every = std::time::Duration::from_secs(settings.audit.checkpoint_minutes * 60);
            tokio::spawn(crate::audit::keep_checkpointing(db.clone(), trust.clone(), every));
        }
        if options.demo {
            crate::demo::seed(&db, |_, _| {}).await?;
            crate::domain::metrics::refresh(&db, None).await?;
        }
        let every = std::time::Duration::from_secs(settings.metrics.refresh_minutes.max(1) * 60);
        tokio::spawn(crate::domain::metrics::keep_fresh(
            db.clone(),
            every,
            settings.disclosure,
            settings.metrics.engaged_after_sessions,
        ));
        let day = std::time::Duration::from_secs(24 * 60 * 60);
        tokio::spawn(crate::domain::retention::keep_applying(
            db.clone(),
            backbone_seeds::retention::default_schedule(),
            trust.clone(),
            day,
        ));
        let listener = TcpListener::bind(settings.server.bind).await?;
        let address = listener.local_addr()?;
        let allow_demo_logins = options.demo && address.ip().is_loopback();
        crate::domain::validate::configure(settings.validation);
        let events = crate::events::Bus::connect(&db).await?;
        let services = Services { db: db.clone(), settings: settings.clone(), allow_demo_logins, events };
        let schema = build_schema(&settings.graphql, Some(services));
        let state = Arc::new(AppState {
            schema,
            db: db.clone(),
            max_batch: settings.graphql.max_batch.max(1),
            allow_demo_logins,
            idempotency_ttl: chrono::Duration::hours(settings.graphql.idempotency_key_hours.max(1)),
            trusted_proxies: settings.auth.trusted_proxies.clone(),
            rate: crate::http::RateLimiter::new(settings.auth.requests_per_minute, Some(&db)),
            max_value_depth: settings.graphql.max_value_depth,
            max_ws_message: settings.server.max_body_bytes,
            auth: settings.auth.clone(),
            cookies_secure: !address.ip().is_loopback(),
        });
        let router = router(state, &settings);
        Ok(Application { listener, router, address, db })
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        Ok(())
    }

    /// Serves until the future completes (for tests).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(stop)
            .await?;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
