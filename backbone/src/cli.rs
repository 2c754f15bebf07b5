//! The `backbone` command line: serve, migrate, seed, print the schema, verify and
//! checkpoint the audit chain (and make its key), load the outcomes framework, export the programme directory and outcomes
//! contracts (claims as CSV, the contract in the INDIGO shape), import anchor data and purge
//! expired screening data. Settings come from defaults, `backbone.toml` and the environment.

use crate::audit::{self, Verdict};
use crate::settings::Settings;
use crate::startup::{Application, StartOptions};
use crate::store::db;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "backbone", version, about = "The shared record of a place-based children's partnership")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the GraphQL service (migrates the database first).
    Serve {
        /// Seed and serve the synthetic demo zone, with GraphiQL and the demo accounts
        /// (loopback only).
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080 (default from settings).
        #[arg(long)]
        bind: Option<SocketAddr>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load data.
    Seed {
        #[command(subcommand)]
        what: SeedWhat,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Audit log commands.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// The outcomes framework.
    Framework {
        #[command(subcommand)]
        what: FrameworkWhat,
    },
    /// Write data out.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Read data in.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Shared metrics.
    Metrics {
        #[command(subcommand)]
        what: MetricsWhat,
    },
    /// Erase (de-identify) a child's record at the family's request: identity and free
    /// text go, the figures stay. Refused under a legal hold (a safeguarding concern).
    /// Audited.
    Erase {
        /// The child's id.
        child: String,
        /// Why (kept on the record: no names).
        #[arg(long)]
        reason: String,
    },
    /// Apply the retention schedule (seeds/retention/schedule.toml): delete expired
    /// screening data and safeguarding concerns past their age, erase closed cases past
    /// their period (unless under a legal hold). The service also does it daily.
    Purge {
        /// List what is due and why; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// With --dry-run: list what will be due on this day (YYYY-MM-DD).
        #[arg(long, requires = "dry_run")]
        as_of: Option<chrono::NaiveDate>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportWhat {
    /// Needs identification: check an anchor's data (CSV, see docs/outcomes.md) as a whole
    /// and, if every row is valid, store the pupils the screening rules flag as candidates.
    /// Exits 1 listing every bad row; nothing is written then.
    AnchorData {
        /// The CSV file, e.g. seeds/anchor-data/sample.csv.
        file: std::path::PathBuf,
        /// The anchor's organisation id, or its exact name.
        #[arg(long)]
        anchor: String,
        /// Replace every earlier candidate of the anchor, not only those of the pupils
        /// in the file.
        #[arg(long)]
        replace_all: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum MetricsWhat {
    /// Rebuild the summary tables now (the service also does it every few minutes).
    Refresh,
}

#[derive(Subcommand, Debug)]
pub enum FrameworkWhat {
    /// Validate a framework file (TOML, see docs/outcomes.md) and load it as the next
    /// version; the newest version is live. Exits 1 naming every problem's place.
    Load {
        /// The framework file, e.g. seeds/framework/outcomes.toml.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ExportWhat {
    /// Shared metrics as CSV (one row per figure), from the summary tables as last
    /// refreshed. Exact figures, or with `--as-funder` exactly what a funder sees
    /// (suppressed counts as `c`, the rest rounded).
    Metrics {
        /// An academic year (2025-26) or a term (\"2025-26 autumn\").
        #[arg(long)]
        period: Option<String>,
        /// A breakdown: anchor, partner, programme, year-group, cohort, fsm, send or eal.
        #[arg(long)]
        group_by: Option<String>,
        /// Apply funders' disclosure control.
        #[arg(long)]
        as_funder: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The programme directory as an Open Referral UK (ORUK 3.0) `/services` page, in JSON.
    Directory {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// An outcomes contract's claims as CSV: every claim (active and reversed) with the
    /// child's pseudonymous id and its evidence, as a backbone admin sees them; or, with
    /// `--as-funder`, the totals per milestone as its paying funders see them (small counts,
    /// and the amounts derived from them, written `c`).
    Claims {
        /// The contract's id, or its exact name.
        #[arg(long)]
        contract: String,
        /// Per-milestone totals under funders' disclosure control.
        #[arg(long)]
        as_funder: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Everything the zone holds about one child, for a subject access request: every
    /// record that references them and who has read or changed it, as JSON or as an HTML
    /// page a family can be given. Safeguarding concerns are withheld (with the reason)
    /// unless `--release-safeguarding`. Audited.
    SubjectAccess {
        /// The child's id.
        child: String,
        /// `json` or `html`.
        #[arg(long, default_value = "html")]
        format: String,
        /// Include safeguarding concerns (after the data-protection lead's review).
        #[arg(long)]
        release_safeguarding: bool,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// An outcomes contract (prices, payers' commitments, results and amounts payable) in
    /// the shape of the INDIGO impact bond data standard, in JSON, under funders'
    /// disclosure control.
    Indigo {
        /// The contract's id, or its exact name.
        #[arg(long)]
        contract: String,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SeedWhat {
    /// The synthetic demo zone (2 anchors, 4 partners, a funder, ~200 children).
    Demo,
}

#[derive(Subcommand, Debug)]
pub enum AuditWhat {
    /// Check the chain with its key and against every checkpoint; exit 1 naming the first
    /// problem. Needs the key the chain was written with (never creates one).
    Verify,
    /// Append a signed checkpoint of the chain head to the checkpoint file (the service
    /// also does so every `audit.checkpoint_minutes`).
    Checkpoint,
    /// Write a new random audit key to a new file (0600), for `audit.key_file` or
    /// `BACKBONE_AUDIT__KEY`. Refuses to replace an existing file.
    NewKey {
        /// The file to create.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// The databases a command opened, so that the events it wrote are chained before the
/// process exits (a running service's sequencer would do it too, a moment later).
#[derive(Default)]
struct Opened(Vec<sea_orm::DatabaseConnection>);

impl Opened {
    /// Opens the database for use: connects, migrates, binds the audit key (created beside
    /// a SQLite file the first time), so that whatever the command writes is audited, and
    /// chains any events left unchained (by a process that stopped before its sequencer
    /// ran).
    async fn open(&mut self, settings: &Settings) -> anyhow::Result<sea_orm::DatabaseConnection> {
        let conn = db::connect(&settings.database_url(), 2).await?;
        db::migrate(&conn).await?;
        let trust = audit::Trust::load(settings, audit::IfMissing::Create)?;
        audit::bind(&conn, &trust).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        audit::chain(&conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        self.0.push(conn.clone());
        Ok(conn)
    }

    /// Chains the events the command wrote.
    async fn finish(self) -> anyhow::Result<()> {
        for conn in self.0 {
            audit::chain(&conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    }
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    let mut opened = Opened::default();
    let code = run_command(command, &mut opened).await?;
    opened.finish().await?;
    Ok(code)
}

async fn run_command(command: Command, opened: &mut Opened) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load()?;
    match command {
        Command::Serve { demo, bind } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            tracing::info!(database = %crate::settings::redact_url(&settings.database_url()), "starting");
            if demo {
                seed_demo_apart(&settings).await?;
            }
            let app = Application::build(settings, StartOptions { demo, ..Default::default() }).await?;
            print_banner(app.address(), demo);
            if demo {
                open_browser(&format!("http://{}/", app.address()));
            }
            app.run_until_stopped().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let conn = db::connect(&settings.database_url(), 2).await?;
            db::migrate(&conn).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed { what: SeedWhat::Demo } => {
            let conn = opened.open(&settings).await?;
            let wrote = crate::demo::seed(&conn, |done, total| {
                eprint!("\rseeding the demo zone: {done}/{total} steps");
                let _ = std::io::stderr().flush();
            })
            .await?;
            if wrote {
                eprintln!("\ndemo zone seeded; its accounts log in only under `backbone serve --demo` on loopback");
            } else {
                eprintln!("the demo zone is already there; nothing written");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Framework { what: FrameworkWhat::Load { file } } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let conn = opened.open(&settings).await?;
            match crate::domain::outcomes::load(&conn, &crate::auth::Actor::system(), &text).await {
                Ok(v) => {
                    println!("loaded \"{}\" as version {} (now live)", v.framework.name, v.model.version);
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::error::Error::InvalidInput(problems)) => {
                    eprintln!("{} is not a valid outcomes framework; nothing was loaded:", file.display());
                    for p in problems {
                        eprintln!("  {}: {}", p.field, p.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Export { what: ExportWhat::Metrics { period, group_by, as_funder, out } } => {
            use crate::domain::disclosure::Audience;
            use crate::domain::metrics::{self, Dimension};
            let conn = opened.open(&settings).await?;
            let dimension = group_by
                .as_deref()
                .map(|g| Dimension::from_name(g, "--group-by"))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let audience = if as_funder { Audience::Protected } else { Audience::Unrestricted };
            let filter = metrics::Filter { period, ..Default::default() };
            let found = metrics::metrics_for(
                &conn,
                audience,
                settings.disclosure,
                settings.metrics.engaged_after_sessions,
                filter,
                dimension,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let csv = metrics::to_csv(&found).map_err(|e| anyhow::anyhow!("{e}"))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, csv)?;
                    let when =
                        found.refreshed_at.map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                    eprintln!("wrote the metrics (summary tables refreshed {when}) to {}", path.display());
                }
                None => print!("{csv}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what: ExportWhat::Claims { contract, as_funder, out } } => {
            use crate::domain::contracts;
            let conn = opened.open(&settings).await?;
            let system = crate::auth::Actor::system();
            let id = contracts::id_by_id_or_name(&conn, &contract).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let csv = if as_funder {
                contracts::totals_csv(&conn, &system, &id, &settings.disclosure).await
            } else {
                contracts::claim_lines_csv(&conn, &system, &id).await
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &csv)?;
                    eprintln!("wrote {} lines to {}", csv.lines().count().saturating_sub(1), path.display());
                }
                None => print!("{csv}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase { child, reason } => {
            let conn = opened.open(&settings).await?;
            let system = crate::auth::Actor::system();
            let erased = crate::domain::erasure::erase(&conn, &system, child.trim(), &reason)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "erased the record of child {} ({} rows deleted or changed); its figures stay",
                erased.child_id, erased.rows_changed
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what: ExportWhat::SubjectAccess { child, format, release_safeguarding, out } } => {
            use crate::domain::subject_access;
            let json = match format.as_str() {
                "json" => true,
                "html" => false,
                other => anyhow::bail!("--format must be json or html, not {other:?}"),
            };
            let conn = opened.open(&settings).await?;
            let system = crate::auth::Actor::system();
            let answer = subject_access::export(&conn, &system, child.trim(), release_safeguarding)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let document = if json { serde_json::to_string_pretty(&answer)? } else { subject_access::to_html(&answer) };
            match out {
                Some(path) => {
                    std::fs::write(&path, &document)?;
                    let records: usize = answer.sections.iter().map(|s| s.rows.len()).sum();
                    let withheld: usize =
                        answer.sections.iter().filter_map(|s| s.withheld.as_ref()).map(|w| w.count).sum();
                    eprintln!(
                        "wrote what is held about {} ({records} records, {withheld} withheld, {} reads and changes) to {}",
                        answer.child_name,
                        answer.access_log.len(),
                        path.display()
                    );
                }
                None => print!("{document}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what: ExportWhat::Indigo { contract, out } } => {
            use crate::domain::contracts;
            let conn = opened.open(&settings).await?;
            let system = crate::auth::Actor::system();
            let id = contracts::id_by_id_or_name(&conn, &contract).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let data = contracts::indigo(&conn, &system, &id, &settings.disclosure)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let json = serde_json::to_string_pretty(&data)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, json)?;
                    eprintln!("wrote the contract in the INDIGO shape to {}", path.display());
                }
                None => println!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what: ExportWhat::Directory { out } } => {
            let conn = opened.open(&settings).await?;
            let page = crate::domain::directory::oruk_services(&conn).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let json = serde_json::to_string_pretty(&page)?;
            match out {
                Some(path) => {
                    std::fs::write(&path, json)?;
                    eprintln!("wrote {} programmes to {}", page["total_items"], path.display());
                }
                None => println!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { what: ImportWhat::AnchorData { file, anchor, replace_all } } => {
            use crate::domain::screening::{self, Step};
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let conn = opened.open(&settings).await?;
            let anchor_id = crate::domain::accounts::organisation_id_by_id_or_name(&conn, &anchor)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .ok_or_else(|| anyhow::anyhow!("no organisation has the id or name {anchor:?}"))?;
            let mut report = |step: Step, done: usize, total: usize| {
                let verb = match step {
                    Step::Checked => "checked",
                    Step::Written => "\nwrote",
                };
                eprint!("\r{verb} {done}/{total} rows");
                let _ = std::io::stderr().flush();
            };
            let result = {
                let mode =
                    if replace_all { screening::ImportMode::ReplaceAll } else { screening::ImportMode::PupilsInFile };
                screening::import(&conn, &crate::auth::Actor::system(), Some(anchor_id), mode, &bytes, &mut report)
                    .await
            };
            eprintln!();
            match result {
                Ok(s) => {
                    println!(
                        "imported {} rows: {} candidates, {} excluded (statutory support), {} already identified, {} not flagged; {} earlier candidates replaced; expires {}",
                        s.rows,
                        s.candidates,
                        s.excluded,
                        s.already_identified,
                        s.not_flagged,
                        s.replaced,
                        s.expires_at.format("%Y-%m-%d")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(crate::error::Error::InvalidInput(problems)) => {
                    eprintln!("{} has {} problems; nothing was imported:", file.display(), problems.len());
                    for p in problems {
                        eprintln!("  {}", p.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(anyhow::anyhow!("{e}")),
            }
        }
        Command::Metrics { what: MetricsWhat::Refresh } => {
            let conn = opened.open(&settings).await?;
            let started = std::time::Instant::now();
            crate::domain::metrics::refresh(&conn, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("metrics summary tables rebuilt in {:.1} s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge { dry_run, as_of } => {
            use crate::domain::retention;
            let conn = opened.open(&settings).await?;
            let system = crate::auth::Actor::system();
            let schedule = backbone_seeds::retention::default_schedule();
            let now = chrono::Utc::now();
            let due = if dry_run {
                retention::list(&conn, &system, &schedule, as_of.unwrap_or(now.date_naive())).await
            } else {
                // `open` has bound the database to this key already.
                let trust = audit::Trust::load(&settings, audit::IfMissing::Create)?;
                retention::apply(&conn, &system, &schedule, now.date_naive(), now, &trust).await
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            for d in &due {
                let whose = d.child_id.as_deref().map(|c| format!("child {c}: ")).unwrap_or_default();
                println!("{whose}{} ({} {})", d.why, d.count, if d.count == 1 { "row" } else { "rows" });
            }
            match (due.is_empty(), dry_run) {
                (true, _) => println!("nothing is due under the retention schedule"),
                (false, true) => println!("{} due (dry run: nothing changed)", due.len()),
                (false, false) => println!("applied the retention schedule: {} done", due.len()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { what: AuditWhat::Verify } => {
            let trust = audit::Trust::load(&settings, audit::IfMissing::Refuse)
                .map_err(|e| anyhow::anyhow!("cannot verify the audit chain: {e}"))?;
            let conn = db::connect(&settings.database_url(), 2).await?;
            db::migrate(&conn).await?;
            // What was written but not chained yet is chained first, when this is the key.
            audit::settle(&conn, &trust).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let verdict = audit::verify(&conn, &trust, |done, total| {
                eprint!("\rverifying the audit chain: {done}/{total} events");
                let _ = std::io::stderr().flush();
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!();
            match verdict {
                Verdict::Intact { events, unkeyed, checkpoints, pending } => {
                    println!(
                        "audit chain intact: {events} events verified ({unkeyed} from before the key), \
                         agreeing with {checkpoints} checkpoints in {}{}",
                        trust.checkpoint_file.display(),
                        if pending > 0 {
                            format!("; {pending} more written meanwhile, not chained yet")
                        } else {
                            String::new()
                        }
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Verdict::Broken { seq, reason } => {
                    println!("audit chain BROKEN at event {seq}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Audit { what: AuditWhat::Checkpoint } => {
            let conn = opened.open(&settings).await?;
            let trust = audit::Trust::load(&settings, audit::IfMissing::Refuse)?;
            let cp = audit::checkpoint(&conn, &trust).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("checkpoint of event {} appended to {}", cp.seq, trust.checkpoint_file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit { what: AuditWhat::NewKey { out } } => {
            audit::Key::generate().map_err(|e| anyhow::anyhow!("{e}"))?.write_new(&out)?;
            println!(
                "wrote a new audit key to {} (readable by its owner only); keep a copy apart from the database",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens GraphiQL in the user's browser when run from a terminal (best effort; set
/// `BACKBONE_NO_BROWSER=1` to skip). Failure is silent: the address is printed anyway.
/// Seeds the demo zone, the first time, in a process of its own (`backbone seed demo`),
/// so that the memory the seeding took (a password hash alone takes 19 MiB) goes back to
/// the system when it exits, and the service starts as lean as on a restart.
async fn seed_demo_apart(settings: &Settings) -> anyhow::Result<()> {
    let seeded = match db::connect(&settings.database_url(), 1).await {
        Ok(conn) => {
            let seeded = crate::demo::is_seeded(&conn).await.unwrap_or(false);
            conn.close().await.ok();
            seeded
        }
        Err(_) => false,
    };
    if seeded {
        return Ok(());
    }
    eprintln!("Preparing the demo zone (the first run seeds ~200 synthetic children)...");
    let status = std::process::Command::new(std::env::current_exe()?).args(["seed", "demo"]).status()?;
    anyhow::ensure!(status.success(), "seeding the demo zone failed ({status}); see the messages above");
    Ok(())
}

fn open_browser(url: &str) {
    use std::io::IsTerminal;
    if std::env::var_os("BACKBONE_NO_BROWSER").is_some() || !std::io::stdout().is_terminal() {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        Some(("open", vec![url]))
    } else if cfg!(target_os = "windows") {
        Some(("cmd", vec!["/C", "start", "", url]))
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        Some(("xdg-open", vec![url]))
    } else {
        None
    };
    if let Some((program, args)) = opener {
        let _ = std::process::Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}

fn print_banner(address: SocketAddr, demo: bool) {
    println!();
    println!("backbone is listening on http://{address}");
    println!("  Console:   http://{address}/   (sign in there)");
    if demo {
        println!("  GraphiQL:  http://{address}/graphiql");
        println!("  GraphQL:   http://{address}/graphql");
        println!("  Demo accounts (password \"demo\", loopback only):");
        for (email, what) in crate::demo::DEMO_ACCOUNTS {
            println!("    {email:<24} {what}");
        }
    }
    println!("  Stop with Ctrl-C.");
    println!();
}
