//! The console over HTTP, as a browser without JavaScript uses it: forms, cookies,
//! redirects. Every page is asked as a role that reaches it and as one that must not.
//!
//! Tests → rules:
//!
//! - `signing_in_sets_a_strict_http_only_cookie_stored_only_as_a_digest`: the form's own
//!   token, a wrong password (the error summary names the field, no cookie), the cookie's
//!   flags (no `Secure` on loopback), the digest stored, the console token refused as a
//!   bearer token at `/graphql`, `next` followed only within the service.
//! - `signing_out_revokes_the_session_and_an_idle_one_ends`.
//! - `a_link_worker_sees_their_worklist_and_children_and_not_another_anchors`.
//! - `a_childs_page_shows_what_the_api_shows_each_role_and_nothing_more`: the partner's
//!   page never carries the surname, date of birth, UPN, phone or the adults' names; a
//!   child outside the scope is 404; every child shown is audited.
//! - `logging_a_contact_round_trips_its_errors_and_writes_once`: no CSRF token → 403 and
//!   nothing written; problems → the error summary links to each field, nothing written;
//!   then the contact is written and the page says so.
//! - `a_partner_accepts_and_declines_from_the_inbox`: decline needs a reason; the link
//!   worker's inbox is 403.
//! - `a_partner_takes_a_register_whole_or_not_at_all`: every child needs a status (and an
//!   engagement when attended); another partner is refused; a link worker's registers 403.
//! - `a_funder_sees_protected_figures_and_their_charts_and_download_from_the_page`.
//! - `no_page_a_role_can_reach_shows_what_the_api_withholds_from_it`: each role follows
//!   every link from its home page; the values its view withholds never appear.
//! - `a_partner_adds_a_progress_note_the_link_worker_then_reads`,
//!   `a_link_worker_identifies_a_child_and_the_duplicate_check_asks_first`,
//!   `the_anchor_lead_reviews_a_record_opened_by_break_glass_and_the_family_report_prints`:
//!   each with a denial beside the allowance.

use backbone::store::{audit_event, auth_token, contact};
use backbone_tests::*;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

/// A browser without JavaScript: it keeps cookies by hand and does not follow redirects.
struct Browser<'a> {
    zone: &'a Zone,
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl<'a> Browser<'a> {
    fn new(zone: &'a Zone) -> Browser<'a> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { zone, http, cookies: Vec::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.retain(|(name, _)| name != k);
                if !c.contains("Max-Age=0") {
                    self.cookies.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        Page { status, location, set_cookies, body: response.text().await.unwrap_or_default() }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r = self.http.get(self.zone.app.url(path)).header("cookie", self.cookie_header()).send().await;
        self.keep(r.expect("GET")).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
        let r = self
            .http
            .post(self.zone.app.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        self.keep(r.expect("POST")).await
    }

    /// Signs in through the form, and answers where it was sent.
    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/sign-in").await;
        let csrf = hidden(&form.body, "csrf");
        self.post("/sign-in", &[("csrf", &csrf), ("email", email), ("password", password), ("next", "/")]).await
    }

    /// Signed in as `who`, on their home page's CSRF token.
    async fn signed_in(zone: &'a Zone, who: &Account) -> (Browser<'a>, String) {
        let mut b = Browser::new(zone);
        let after = b.sign_in(&who.email, PASSWORD).await;
        assert_eq!(after.status, 303, "{}", after.body);
        let home = b.get("/").await;
        let page = if home.status == 303 { b.get(home.location.as_deref().unwrap_or("/")).await } else { home };
        let csrf = hidden(&page.body, "csrf");
        (b, csrf)
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the first hidden input named `name`.
fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    body.split(&marker).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_stored_only_as_a_digest() {
    let zone = Zone::new().await;
    let mut b = Browser::new(&zone);
    let form = b.get("/sign-in").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<form method=\"post\" action=\"/sign-in\""), "{}", form.body);

    // A form without its token is refused, whatever the password.
    let forged = b.post("/sign-in", &[("csrf", "x"), ("email", &zone.link_worker.email), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 403);
    assert!(!forged.set_cookies.iter().any(|c| c.starts_with("backbone_session=")));

    let wrong = b.sign_in(&zone.link_worker.email, "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("There is a problem"), "{}", wrong.body);
    assert!(wrong.body.contains("href=\"#email\""), "the summary links to the field: {}", wrong.body);
    assert!(wrong.body.contains("<title>Error: Sign in"), "{}", wrong.body);
    assert!(!wrong.set_cookies.iter().any(|c| c.starts_with("backbone_session=")));

    let ok = b.sign_in(&zone.link_worker.email, PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/")));
    let session = ok.set_cookies.iter().find(|c| c.starts_with("backbone_session=")).expect("session cookie");
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/"));
    assert!(!session.contains("Secure"), "no Secure on loopback: {session}");
    let token = session.split(';').next().and_then(|p| p.split_once('=')).map(|(_, v)| v.to_owned()).expect("value");

    // Stored only as its digest, as a console session.
    let rows = auth_token::Entity::find()
        .filter(auth_token::Column::UserId.eq(zone.link_worker.id.clone()))
        .filter(auth_token::Column::Kind.eq("console"))
        .all(&zone.app.db)
        .await
        .expect("tokens");
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, token);
    assert!(!rows[0].token_hash.contains(&token[3..]));
    // A console session is not a bearer token.
    let as_bearer = zone.app.graphql(Some(&token), "{ me { id } }", json!({})).await;
    assert_refused(&as_bearer, "UNAUTHENTICATED");

    // Only paths of the service are followed after signing in.
    let mut other = Browser::new(&zone);
    let form = other.get("/sign-in?next=//evil.example").await;
    assert!(!form.body.contains("evil.example"), "{}", form.body);
    let csrf = hidden(&form.body, "csrf");
    let away = other
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", &zone.link_worker.email),
                ("password", PASSWORD),
                ("next", "https://evil.example"),
            ],
        )
        .await;
    assert_eq!(away.location.as_deref(), Some("/"));
}

#[tokio::test]
async fn signing_out_revokes_the_session_and_an_idle_one_ends() {
    let zone = Zone::new().await;
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert_eq!(b.get("/").await.status, 200);
    // Signing out needs the form's token.
    assert_eq!(b.post("/sign-out", &[("csrf", "wrong")]).await.status, 403);
    assert_eq!(b.get("/").await.status, 200, "still signed in");
    let out = b.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/sign-in?signed_out=1"));
    let revoked = auth_token::Entity::find()
        .filter(auth_token::Column::UserId.eq(zone.link_worker.id.clone()))
        .filter(auth_token::Column::Kind.eq("console"))
        .one(&zone.app.db)
        .await
        .expect("token")
        .expect("row");
    assert!(revoked.revoked_at.is_some());
    let after = b.get("/").await;
    assert_eq!((after.status, after.location.as_deref()), (303, Some("/sign-in")));

    // Idle for longer than `console.idle_minutes`: the next page asks to sign in again.
    let (mut idle, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    for row in auth_token::Entity::find()
        .filter(auth_token::Column::Kind.eq("console"))
        .filter(auth_token::Column::RevokedAt.is_null())
        .all(&zone.app.db)
        .await
        .expect("tokens")
    {
        let mut row: auth_token::ActiveModel = row.into();
        row.last_used_at = Set(Some(chrono::Utc::now() - chrono::Duration::minutes(31)));
        row.update(&zone.app.db).await.expect("age the session");
    }
    let page = idle.get("/children/x").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/sign-in?next=/children/x"));
}

#[tokio::test]
async fn a_link_worker_sees_their_worklist_and_children_and_not_another_anchors() {
    let zone = Zone::new().await;
    let b1 = zone.add_child("Zola", &zone.anchor_b, &zone.link_worker_b.id).await;
    let (mut b, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Your worklist"));
    assert!(home.body.contains(&format!("/children/{}", zone.child_a1)), "their child is listed: {}", home.body);
    assert!(!home.body.contains("Zola") && !home.body.contains(&b1), "another anchor's child is not");
    let found = b.get("/?name=ada").await;
    assert!(found.body.contains(&zone.child_a1));
    let none = b.get("/?name=zola").await;
    assert!(none.body.contains("No children match."), "{}", none.body);

    // A partner is sent to their referrals; signed out, to the sign-in page.
    let (mut partner, _) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(partner.get("/").await.location.as_deref(), Some("/inbox"));
    let mut nobody = Browser::new(&zone);
    assert_eq!(nobody.get("/").await.location.as_deref(), Some("/sign-in"));
}

#[tokio::test]
async fn a_childs_page_shows_what_the_api_shows_each_role_and_nothing_more() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    zone.refer(&a1, &programme, backbone::domain::ReferralStatus::Sent).await;
    let phone = "mutation($c: ID!) { updateChild(input: {childId: $c, contactPhone: \"07700 900123\", upn: \"A123456789012\", reason: \"Form\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, phone, json!({"c": a1})).await);
    let adult = "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Testparent\", involvement: MAIN_CONTACT, parentalResponsibility: true}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, adult, json!({"c": a1})).await);
    let path = format!("/children/{a1}");

    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    let full = lw.get(&path).await;
    assert_eq!(full.status, 200);
    for shown in ["Ada", "Testchild", "07700 900123", "A123456789012", "Pat Testparent", "Mentoring"] {
        assert!(full.body.contains(shown), "the link worker sees {shown}");
    }
    let (mut partner, _) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let narrow = partner.get(&path).await;
    assert_eq!(narrow.status, 200, "{}", narrow.body);
    assert!(narrow.body.contains("Ada"));
    // Casework is offered to the link worker (access::does_casework), not to the partner.
    assert!(full.body.contains("Log a contact") && full.body.contains("Record consent"));
    assert!(!narrow.body.contains("Log a contact") && !narrow.body.contains("Record consent"));
    for withheld in ["Testchild", "07700 900123", "A123456789012", "Pat Testparent", "2016-05-04"] {
        assert!(!narrow.body.contains(withheld), "the partner's page shows {withheld}");
    }
    for who in [&zone.link_worker_b, &zone.partner_worker_2] {
        let (mut other, _) = Browser::signed_in(&zone, who).await;
        assert_eq!(other.get(&path).await.status, 404);
    }
    // A funder never reaches a child: as through the API, it answers as a missing one.
    let (mut funder, _) = Browser::signed_in(&zone, &zone.funder).await;
    assert_eq!(funder.get(&path).await.status, 404);
    // Every page that showed the child is audited, as the API's reads are.
    let reads = audit_event::Entity::find()
        .filter(audit_event::Column::ChildId.eq(a1.clone()))
        .filter(audit_event::Column::Action.eq("child.read"))
        .filter(audit_event::Column::ActorUserId.eq(zone.partner_worker.id.clone()))
        .count(&zone.app.db)
        .await
        .expect("count");
    assert!(reads >= 1);
}

#[tokio::test]
async fn logging_a_contact_round_trips_its_errors_and_writes_once() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let path = format!("/children/{a1}/contacts/new");
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("held-on-day") && form.body.contains("held-on-month") && form.body.contains("held-on-year")
    );
    let count = || async { contact::Entity::find().count(&zone.app.db).await.expect("count") };
    let good = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("held-on-day".into(), "7".into()),
            ("held-on-month".into(), "10".into()),
            ("held-on-year".into(), "2026".into()),
            ("minutes".into(), "15".into()),
            ("kind".into(), "INFORMAL".into()),
            ("with-whom".into(), "CHILD".into()),
            ("with-whom".into(), "PARENT".into()),
            ("content".into(), "Chat at the gate with Ada and her mum".into()),
        ]
    };

    // Without the session's CSRF token: refused, nothing written.
    let mut forged = good("");
    forged.retain(|(k, _)| k != "csrf");
    let pairs: Vec<(&str, &str)> = forged.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(b.post(&path, &pairs).await.status, 403);
    assert_eq!(count().await, 0);

    // Problems the form sees and problems the API sees come back the same way.
    let mut bad = good(&csrf);
    for (k, v) in bad.iter_mut() {
        match k.as_str() {
            "held-on-month" => *v = "13".into(),
            "minutes" => *v = "a while".into(),
            _ => {}
        }
    }
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = b.post(&path, &pairs).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("There is a problem"));
    assert!(page.body.contains("href=\"#minutes\""), "{}", page.body);
    assert!(page.body.contains("Chat at the gate with Ada and her mum"), "what was typed is kept");
    let mut future = good(&csrf);
    for (k, v) in future.iter_mut() {
        if k == "held-on-year" {
            *v = "2099".into();
        }
    }
    let pairs: Vec<(&str, &str)> = future.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = b.post(&path, &pairs).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("href=\"#held-on-day\""), "the API's problem links to the date: {}", page.body);
    assert_eq!(count().await, 0, "nothing written");

    let ok = good(&csrf);
    let pairs: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = b.post(&path, &pairs).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(count().await, 1);
    let shown = b.get(done.location.as_deref().expect("back to the child")).await;
    assert!(shown.body.contains("The contact has been logged."));
    assert!(shown.body.contains("Chat at the gate with Ada and her mum"));

    // A partner cannot log a contact (the API refuses them; nothing written).
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let theirs = good(&pcsrf);
    let pairs: Vec<(&str, &str)> = theirs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = partner.post(&path, &pairs).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert_eq!(count().await, 1);
}

#[tokio::test]
async fn a_partner_accepts_and_declines_from_the_inbox() {
    let zone = Zone::new().await;
    let mentoring = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    let homework = zone.programme(&zone.partner_1, "Homework Club", 5).await;
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let first = zone.refer(&zone.child_a1, &mentoring, backbone::domain::ReferralStatus::Sent).await;
    let second = zone.refer(&zone.child_a1, &homework, backbone::domain::ReferralStatus::Sent).await;
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let inbox = b.get("/inbox").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains(&format!("/referrals/{first}/accept")), "{}", inbox.body);
    assert!(!inbox.body.contains("Testchild"), "the partner sees no surname");

    assert_eq!(b.post(&format!("/referrals/{first}/accept"), &[("csrf", "x")]).await.status, 403);
    let accepted = b.post(&format!("/referrals/{first}/accept"), &[("csrf", &csrf)]).await;
    assert_eq!(accepted.location.as_deref(), Some("/inbox?done=accepted"));
    let status = "query($r: ID!) { referral(id: $r) { status reason } }";
    let r = zone.as_(&zone.link_worker, status, json!({"r": first})).await;
    assert_eq!(r["data"]["referral"]["status"], "ACCEPTED");

    let decline = format!("/referrals/{second}/decline");
    let blank = b.post(&decline, &[("csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(blank.status, 400);
    assert!(blank.body.contains("href=\"#reason\""), "{}", blank.body);
    let r = zone.as_(&zone.link_worker, status, json!({"r": second})).await;
    assert_eq!(r["data"]["referral"]["status"], "SENT", "nothing written");
    let declined = b.post(&decline, &[("csrf", &csrf), ("reason", "No mentor free until January")]).await;
    assert_eq!(declined.location.as_deref(), Some("/inbox?done=declined"));
    let r = zone.as_(&zone.link_worker, status, json!({"r": second})).await;
    assert_eq!(r["data"]["referral"]["reason"], "No mentor free until January");

    // Another partner cannot answer it; a link worker has no inbox.
    let (mut other, ocsrf) = Browser::signed_in(&zone, &zone.partner_worker_2).await;
    assert_eq!(other.post(&format!("/referrals/{first}/accept"), &[("csrf", &ocsrf)]).await.status, 404);
    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert_eq!(lw.get("/inbox").await.status, 403);
}

#[tokio::test]
async fn a_partner_takes_a_register_whole_or_not_at_all() {
    let zone = Zone::new().await;
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    for c in [&zone.child_a1, &zone.child_a2] {
        zone.ready_for_referral(c, &[&zone.partner_1]).await;
        zone.refer(c, &programme, backbone::domain::ReferralStatus::Accepted).await;
    }
    let sessions = || async { backbone::store::session::Entity::find().count(&zone.app.db).await.expect("count") };
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let list = b.get("/registers").await;
    assert_eq!(list.status, 200);
    let path = format!("/programmes/{programme}/register");
    assert!(list.body.contains(&path), "{}", list.body);
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Ada") && form.body.contains("Bea"), "both children are on it: {}", form.body);
    assert!(!form.body.contains("Testchild"), "the partner sees no surname");

    let (a1, a2) = (zone.child_a1.as_str(), zone.child_a2.as_str());
    let (s1, s2) = (format!("status:{a1}"), format!("status:{a2}"));
    let base = [
        ("csrf", csrf.as_str()),
        ("held-on-day", "7"),
        ("held-on-month", "10"),
        ("held-on-year", "2026"),
        ("minutes", "60"),
        ("kind", "GROUP"),
        ("child", a1),
        ("child", a2),
    ];
    // One child left unticked: the page says who, nothing is written.
    let e1 = format!("engagement:{a1}");
    let mut half = base.to_vec();
    half.push((s1.as_str(), "ATTENDED"));
    half.push((e1.as_str(), "PARTICIPATING"));
    let page = b.post(&path, &half).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("href=\"#status-1-0\""), "{}", page.body);
    assert_eq!(sessions().await, 0);
    // Another partner cannot log it: the API refuses them.
    let (mut other, ocsrf) = Browser::signed_in(&zone, &zone.partner_worker_2).await;
    let mut theirs = half.clone();
    theirs[0] = ("csrf", ocsrf.as_str());
    theirs.push((s2.as_str(), "ABSENT"));
    let refused = other.post(&path, &theirs).await;
    assert!(matches!(refused.status, 400 | 403 | 404), "{}", refused.status);
    assert_eq!(sessions().await, 0);

    let mut whole = half.clone();
    whole.push((s2.as_str(), "ABSENT"));
    let saved = b.post(&path, &whole).await;
    assert_eq!(saved.location.as_deref(), Some("/registers?done=register"), "{}", saved.body);
    assert_eq!(sessions().await, 1);
    let r = zone.as_(&zone.link_worker, "query($c: ID!) { child(id: $c) { supportPackage { referrals { status engagement { sessionsAttended } } } } }", json!({"c": a1})).await;
    assert_eq!(r["data"]["child"]["supportPackage"]["referrals"][0]["status"], "ACTIVE", "{r}");

    // Registers are partners' pages.
    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert_eq!(lw.get("/registers").await.status, 403);
}

#[tokio::test]
async fn a_funder_sees_protected_figures_and_their_charts_and_download_from_the_page() {
    // (Outcomes contracts are written against the live framework.)
    let zone = Zone::with_framework().await;
    backbone::domain::metrics::refresh(&zone.app.db, None).await.expect("refresh");
    let (mut funder, _) = Browser::signed_in(&zone, &zone.funder).await;
    assert_eq!(funder.get("/").await.location.as_deref(), Some("/dashboard"));
    let page = funder.get("/dashboard?groupBy=ANCHOR").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Children at each stage"));
    assert!(page.body.contains("is shown as <strong>c</strong>"), "the marker is explained: {}", page.body);
    assert!(page.body.contains("(suppressed: too few to show)"), "three children are too few to show");
    assert!(!page.body.contains("Ada") && !page.body.contains(&zone.child_a1), "never a child");
    // The chart and the download come with the session cookie, no bearer header.
    let chart = funder.get("/charts/funnel.svg").await;
    assert_eq!(chart.status, 200);
    assert!(chart.body.contains("<svg"));
    let csv = funder.get("/exports/metrics.csv?groupBy=anchor").await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.body.lines().count() > 1);
    // Signed out, or as a role without aggregates: refused.
    let mut nobody = Browser::new(&zone);
    assert_eq!(nobody.get("/charts/funnel.svg").await.status, 401);
    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert_eq!(lw.get("/dashboard").await.status, 403);
    assert_eq!(lw.get("/exports/metrics.csv").await.status, 403);
    let bad = funder.get("/dashboard?period=last%20month").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("href=\"#period\""), "{}", bad.body);
    assert!(!page.body.contains("Outcomes contracts"), "no contract yet, no section");

    // An outcomes contract the funder pays into: its milestones on the dashboard, the one
    // child's achievement suppressed and the amount it would reveal withheld.
    zone.ready_for_referral(&zone.child_a1, &[&zone.partner_1]).await;
    let record = "mutation($i: RecordContractInput!) { recordContract(input: $i) { id } }";
    let contract = json!({ "i": {
        "name": "Test outcomes fund", "periodStart": "2025-01-01", "periodEnd": "2027-12-31",
        "anchorIds": [zone.anchor_a], "payers": [{"organisationId": zone.funder_org, "sharePercent": 100}],
        "rateCard": { "milestones": [{ "code": "enrolled", "name": "Enrolled with consent",
            "rule": {"kind": "ENROLLED_WITH_CONSENT"}, "pricePence": 125_000,
            "verifiedBy": "The backbone team", "evidence": "Records in the backbone" }] } } });
    let recorded = zone.as_(&zone.admin, record, contract).await;
    assert_ok(&recorded);
    let id = recorded["data"]["recordContract"]["id"].as_str().expect("id").to_owned();
    let evaluate = "mutation($c: ID!, $d: String!) { evaluateMilestones(contractId: $c, asOf: $d) { active } }";
    let today = backbone::domain::validate::today().format("%Y-%m-%d").to_string();
    assert_ok(&zone.as_(&zone.admin, evaluate, json!({"c": id, "d": today})).await);
    let page = funder.get("/dashboard").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for shown in ["Outcomes contracts", "Test outcomes fund", "Enrolled with consent", "£1,250.00", "Achieved as of"] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    assert!(page.body.contains("withheld"), "one child's amount would reveal them: {}", page.body);
    // The analyst sees the exact figures of the same contract.
    let (mut analyst, _) = Browser::signed_in(&zone, &zone.analyst).await;
    let exact = analyst.get("/dashboard").await;
    assert!(exact.body.contains("Test outcomes fund") && !exact.body.contains(">withheld"), "{}", exact.body);
}

/// Every console page `who` reaches by following links from their home page (same
/// service, GET only, up to `limit` pages): (path, status, body).
async fn walk(zone: &Zone, who: &Account, limit: usize) -> Vec<(String, u16, String)> {
    let (mut b, _) = Browser::signed_in(zone, who).await;
    let mut queue = vec!["/".to_owned()];
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while let Some(path) = queue.pop() {
        if seen.contains(&path) || seen.len() >= limit {
            continue;
        }
        seen.push(path.clone());
        let page = b.get(&path).await;
        if let Some(to) = page.location.clone() {
            queue.push(to);
            continue;
        }
        for link in page.body.split("href=\"").skip(1).filter_map(|rest| rest.split('"').next()) {
            let link = link.replace("&amp;", "&");
            let own = link.starts_with('/') && !link.starts_with("//");
            let skip = link.starts_with("/console.css") || link.starts_with("/exports/") || link.contains('#');
            if own && !skip && !seen.contains(&link) {
                queue.push(link);
            }
        }
        out.push((path, page.status, page.body));
    }
    out
}

#[tokio::test]
async fn no_page_a_role_can_reach_shows_what_the_api_withholds_from_it() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    zone.refer(&a1, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let details = "mutation($c: ID!) { updateChild(input: {childId: $c, contactPhone: \"07700 900123\", \
        upn: \"A123456789012\", postcode: \"ZZ9 9ZZ\", reason: \"Form\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, details, json!({"c": a1})).await);
    let adult = "mutation($c: ID!) { addRelationship(input: {childId: $c, kind: PARENT, name: \"Pat Testparent\", involvement: MAIN_CONTACT, parentalResponsibility: true}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, adult, json!({"c": a1})).await);
    let contact = "mutation($c: ID!) { logContact(input: {childId: $c, heldOn: \"2026-10-07\", minutes: 15, kind: INFORMAL, withWhom: [CHILD], content: \"Talked about the move to big school\"}) { id } }";
    assert_ok(&zone.as_(&zone.link_worker, contact, json!({"c": a1})).await);
    backbone::domain::metrics::refresh(&zone.app.db, None).await.expect("refresh");

    // The link worker reaches it all: the walk does reach the record.
    let mine = walk(&zone, &zone.link_worker, 30).await;
    let all: String = mine.iter().map(|(_, _, b)| b.as_str()).collect();
    for v in ["Testchild", "07700 900123", "A123456789012", "Pat Testparent", "Talked about the move"] {
        assert!(all.contains(v), "the link worker's walk never showed {v}");
    }

    // What the API withholds from each role never appears on a page it reaches.
    let partner_withheld = [
        "Testchild",
        "07700 900123",
        "A123456789012",
        "ZZ9 9ZZ",
        "Pat Testparent",
        "Talked about the move",
        "4 May 2016",
    ];
    let everything =
        ["Ada", "Bea", "Testchild", "07700 900123", "A123456789012", "Pat Testparent", "Talked about the move"];
    // Anchor B's link worker has children of their own (named Testchild too): none of Ada's.
    let not_theirs = ["Ada", a1.as_str(), "07700 900123", "A123456789012", "Pat Testparent", "Talked about the move"];
    let walks: [(&Account, &[&str]); 5] = [
        (&zone.partner_worker, &partner_withheld),
        (&zone.partner_lead, &partner_withheld),
        (&zone.partner_worker_2, &everything),
        (&zone.funder, &everything),
        (&zone.link_worker_b, &not_theirs),
    ];
    for (who, withheld) in walks {
        let pages = walk(&zone, who, 30).await;
        assert!(!pages.is_empty());
        for (path, status, body) in &pages {
            assert!(*status < 500, "{} {path}: {status}", who.email);
            for v in withheld {
                assert!(!body.contains(v), "{} reached {path}, which shows {v}", who.email);
            }
        }
    }
    // The partner's walk does reach the child (so the check above looked at the record).
    let partner = walk(&zone, &zone.partner_worker, 30).await;
    assert!(
        partner.iter().any(|(p, s, _)| p == &format!("/children/{a1}") && *s == 200),
        "{:?}",
        partner.iter().map(|(p, s, _)| (p, s)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_partner_adds_a_progress_note_the_link_worker_then_reads() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    zone.refer(&a1, &programme, backbone::domain::ReferralStatus::Accepted).await;
    let notes = || async { backbone::store::progress_note::Entity::find().count(&zone.app.db).await.expect("count") };
    let path = format!("/children/{a1}/notes/new");
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(b.get(&path).await.status, 200);
    let blank = b.post(&path, &[("csrf", &csrf), ("body", " "), ("visibility", "SHARED_WITH_LINK_WORKER")]).await;
    assert_eq!(blank.status, 400);
    assert!(blank.body.contains("href=\"#body\""), "{}", blank.body);
    assert_eq!(notes().await, 0);
    let text = "Settled in well at the first mentoring session";
    let done = b.post(&path, &[("csrf", &csrf), ("body", text), ("visibility", "SHARED_WITH_LINK_WORKER")]).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=note").as_str()), "{}", done.body);
    assert_eq!(notes().await, 1);
    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert!(lw.get(&format!("/children/{a1}")).await.body.contains(text), "shared with the link worker");
    // Another partner, who does not see the child, is refused and writes nothing.
    let (mut other, ocsrf) = Browser::signed_in(&zone, &zone.partner_worker_2).await;
    let refused = other.post(&path, &[("csrf", &ocsrf), ("body", "x"), ("visibility", "ORGANISATION")]).await;
    assert_eq!(refused.status, 404);
    let (mut funder, fcsrf) = Browser::signed_in(&zone, &zone.funder).await;
    let refused = funder.post(&path, &[("csrf", &fcsrf), ("body", "x"), ("visibility", "ORGANISATION")]).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert_eq!(notes().await, 1);
}

#[tokio::test]
async fn a_link_worker_identifies_a_child_and_the_duplicate_check_asks_first() {
    let zone = Zone::new().await;
    let children = || async { backbone::store::child::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = children().await;
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    assert_eq!(b.get("/children/new").await.status, 200);
    let fields = |first: &str, day: &str, more: &[(&'static str, &'static str)]| {
        let mut f: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("first-name".into(), first.into()),
            ("last-name".into(), "Newchild".into()),
            ("date-of-birth-day".into(), day.into()),
            ("date-of-birth-month".into(), "5".into()),
            ("date-of-birth-year".into(), "2016".into()),
            ("year-group".into(), "5".into()),
        ];
        f.extend(more.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        f
    };
    let post = |f: Vec<(String, String)>| async move { f };
    let f = post(fields("", "4", &[])).await;
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = b.post("/children/new", &pairs).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(
        page.body.contains("href=\"#first-name\">Enter the child&#39;s first name")
            || page.body.contains("href=\"#first-name\">Enter the child's first name"),
        "{}",
        page.body
    );
    // A problem only the API sees (a name without a letter) links to its field too.
    let f = post(fields("123", "4", &[])).await;
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let page = b.post("/children/new", &pairs).await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.body.contains("href=\"#first-name\""), "the API's problem links to the field: {}", page.body);
    assert_eq!(children().await, before);

    let f = fields("Noor", "4", &[]);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let made = b.post("/children/new", &pairs).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let to = made.location.clone().expect("to the child");
    assert!(b.get(&to).await.body.contains("Noor Newchild"));
    assert_eq!(children().await, before + 1);

    // The same child again: the page asks, and only a "different child" goes through.
    let again = b.post("/children/new", &pairs).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("href=\"#not-duplicate-0\""), "{}", again.body);
    assert_eq!(children().await, before + 1);
    let f = fields("Noor", "4", &[("not-duplicate", "yes")]);
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(b.post("/children/new", &pairs).await.status, 303);
    assert_eq!(children().await, before + 2);

    // Partners and funders do not identify children.
    for who in [&zone.partner_worker, &zone.funder] {
        let (mut other, _) = Browser::signed_in(&zone, who).await;
        assert_eq!(other.get("/children/new").await.status, 403);
    }
}

#[tokio::test]
async fn the_anchor_lead_reviews_a_record_opened_by_break_glass_and_the_family_report_prints() {
    let zone = Zone::new().await;
    let open = "mutation($c: ID!) { breakGlass(childId: $c, reason: \"Came to our breakfast club upset\") { id } }";
    let opened = zone.as_(&zone.link_worker_b, open, json!({"c": zone.child_a1})).await;
    assert_ok(&opened);
    let id = opened["data"]["breakGlass"]["id"].as_str().expect("id").to_owned();
    let (mut lead, csrf) = Browser::signed_in(&zone, &zone.anchor_lead).await;
    let home = lead.get("/").await;
    assert!(home.body.contains(&format!("/break-glass/{id}")), "the worklist item links to it: {}", home.body);
    let page = lead.get(&format!("/break-glass/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Came to our breakfast club upset") && page.body.contains("Mark as reviewed"));
    assert_eq!(lead.post(&format!("/break-glass/{id}/review"), &[("csrf", "x")]).await.status, 403);
    let done = lead.post(&format!("/break-glass/{id}/review"), &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303);
    assert!(!lead.get(&format!("/break-glass/{id}")).await.body.contains("Mark as reviewed"));
    // The other anchor's lead does not see it; the opener cannot review it.
    let (mut other, _) = Browser::signed_in(&zone, &zone.anchor_lead_b).await;
    assert_eq!(other.get(&format!("/break-glass/{id}")).await.status, 404);
    let (mut opener, ocsrf) = Browser::signed_in(&zone, &zone.link_worker_b).await;
    assert_eq!(opener.post(&format!("/break-glass/{id}/review"), &[("csrf", &ocsrf)]).await.status, 403);

    // The family report, for the child's link worker; not for a partner.
    let (mut lw, _) = Browser::signed_in(&zone, &zone.link_worker).await;
    let report = lw.get(&format!("/children/{}/family-report", zone.child_a1)).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains("Who knows about Ada"), "{}", report.body);
    assert!(report.body.contains("in an emergency (break-glass)"), "the opening's reads are told: {}", report.body);
    let (mut partner, _) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(partner.get(&format!("/children/{}/family-report", zone.child_a1)).await.status, 403);
}

#[tokio::test]
async fn a_link_worker_refers_a_child_and_sends_it_when_consent_covers_the_partner() {
    let zone = Zone::new().await;
    let (a1, a2) = (zone.child_a1.clone(), zone.child_a2.clone());
    let programme = zone.programme(&zone.partner_1, "Mentoring", 5).await;
    zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    let referrals = || async { backbone::store::referral::Entity::find().count(&zone.app.db).await.expect("count") };
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let form = b.get(&format!("/children/{a1}/refer")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Mentoring") && form.body.contains("5 places free"), "{}", form.body);
    let path = format!("/children/{a1}/refer");
    let blank = b.post(&path, &[("csrf", &csrf), ("programme", &programme), ("needs", " ")]).await;
    assert_eq!(blank.status, 400);
    assert!(blank.body.contains("href=\"#needs\""), "{}", blank.body);
    assert_eq!(referrals().await, 0);
    let done = b.post(&path, &[("csrf", &csrf), ("programme", &programme), ("needs", "A mentor to talk to")]).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=proposed").as_str()), "{}", done.body);
    assert_eq!(referrals().await, 1);
    let page = b.get(&format!("/children/{a1}?done=proposed")).await;
    let send = page.body.split("action=\"/referrals/").nth(1).and_then(|r| r.split('/').next()).expect("a Send button");
    let sent = b.post(&format!("/referrals/{send}/send"), &[("csrf", &csrf)]).await;
    assert_eq!(sent.location.as_deref(), Some(format!("/children/{a1}?done=sent").as_str()), "{}", sent.body);
    let r = zone.as_(&zone.link_worker, "query($r: ID!) { referral(id: $r) { status } }", json!({"r": send})).await;
    assert_eq!(r["data"]["referral"]["status"], "SENT");

    // Another link worker's child is not theirs to refer; a partner has no such page.
    assert_eq!(b.get(&format!("/children/{a2}/refer")).await.status, 404);
    let bad =
        b.post(&format!("/children/{a2}/refer"), &[("csrf", &csrf), ("programme", &programme), ("needs", "x")]).await;
    assert!(matches!(bad.status, 403 | 404), "{}", bad.status);
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let theirs = partner.post(&path, &[("csrf", &pcsrf), ("programme", &programme), ("needs", "x")]).await;
    assert!(matches!(theirs.status, 403 | 404), "{}", theirs.status);
    assert_eq!(referrals().await, 1);
}

#[tokio::test]
async fn a_link_worker_records_consent_with_its_partners_and_purposes() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let consents = || async { backbone::store::consent::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = consents().await;
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let path = format!("/children/{a1}/consent");
    let form = b.get(&path).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Test Mentoring") && form.body.contains("Test Sports"), "the partners to choose from");
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("given-by", "PARENT"),
        ("given-by-name", "Pat Testparent"),
        ("given-on-day", "7"),
        ("given-on-month", "10"),
        ("given-on-year", "2026"),
        ("partners", zone.partner_1.as_str()),
        ("evidence", "Paper form, school office file"),
    ];
    let missing = b.post(&path, &fields).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("href=\"#purposes-0\""), "{}", missing.body);
    assert_eq!(consents().await, before);
    fields.push(("purposes", "REFERRAL"));
    fields.push(("purposes", "PROGRESS_MONITORING"));
    let done = b.post(&path, &fields).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=consent").as_str()), "{}", done.body);
    assert_eq!(consents().await, before + 1);
    let page = b.get(&format!("/children/{a1}")).await;
    assert!(page.body.contains("Test Mentoring") && page.body.contains("In force"), "{}", page.body);
    // A partner records no consent: the API refuses them, nothing is written.
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    fields[0] = ("csrf", pcsrf.as_str());
    let refused = partner.post(&path, &fields).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert_eq!(consents().await, before + 1);
}

#[tokio::test]
async fn a_link_worker_takes_a_child_from_identified_to_enrolled_and_out() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let status = || async {
        backbone::store::enrolment::Entity::find()
            .filter(backbone::store::enrolment::Column::ChildId.eq(a1.clone()))
            .one(&zone.app.db)
            .await
            .expect("enrolment")
            .expect("a row")
            .status
    };
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let page = b.get(&format!("/children/{a1}")).await;
    for link in ["/participation", "/lawful-basis", "/enrol", "/adults/new"] {
        assert!(page.body.contains(&format!("/children/{a1}{link}")), "{link}: {}", page.body);
    }
    assert!(!page.body.contains("/exit\""), "not enrolled yet: no exit");

    // Each step: a problem the form sees, named on its field, nothing written; then done.
    let participation = format!("/children/{a1}/participation");
    assert_eq!(b.get(&participation).await.status, 200);
    let mut agreed = vec![
        ("csrf", csrf.as_str()),
        ("agreed-by-name", "Pat Testparent"),
        ("agreed-on-day", "10"),
        ("agreed-on-month", "1"),
        ("agreed-on-year", "2025"),
        ("evidence", "Paper form, school office file"),
    ];
    let missing = b.post(&participation, &agreed).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("href=\"#agreed-by-0\""), "{}", missing.body);
    assert_eq!(status().await, "identified");
    agreed.push(("agreed-by", "PARENT"));
    let done = b.post(&participation, &agreed).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=participation").as_str()), "{}", done.body);
    let shown = b.get(done.location.as_deref().unwrap_or_default()).await;
    assert!(shown.body.contains("The agreement to take part has been recorded."), "{}", shown.body);

    let basis = [("csrf", csrf.as_str()), ("basis", "PUBLIC_TASK"), ("agreement", "Test DSA")];
    let done = b.post(&format!("/children/{a1}/lawful-basis"), &basis).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=lawful-basis").as_str()), "{}", done.body);

    // The API's own refusal (a day that does not exist) lands on the date's field.
    let enrol = format!("/children/{a1}/enrol");
    let mut when =
        vec![("csrf", csrf.as_str()), ("cohort", "2025/26"), ("on-day", "31"), ("on-month", "2"), ("on-year", "2025")];
    let refused = b.post(&enrol, &when).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("href=\"#on-day\""), "{}", refused.body);
    assert_ne!(status().await, "enrolled");
    when[2] = ("on-day", "1");
    let done = b.post(&enrol, &when).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=enrol").as_str()), "{}", done.body);
    assert_eq!(status().await, "enrolled");
    let page = b.get(&format!("/children/{a1}")).await;
    assert!(page.body.contains(&format!("/children/{a1}/exit")), "{}", page.body);

    // A partner reaches none of it: the child is not theirs to see; nothing is written.
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(partner.get(&format!("/children/{a1}/exit")).await.status, 404);
    let leave =
        [("csrf", pcsrf.as_str()), ("reason", "MOVED_AWAY"), ("on-day", "1"), ("on-month", "11"), ("on-year", "2026")];
    let refused = partner.post(&format!("/children/{a1}/exit"), &leave).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert_eq!(status().await, "enrolled");

    let exit = format!("/children/{a1}/exit");
    let no_reason =
        b.post(&exit, &[("csrf", csrf.as_str()), ("on-day", "1"), ("on-month", "11"), ("on-year", "2026")]).await;
    assert!(no_reason.body.contains("href=\"#reason-0\""), "{}", no_reason.body);
    let leave =
        [("csrf", csrf.as_str()), ("reason", "MOVED_AWAY"), ("on-day", "1"), ("on-month", "11"), ("on-year", "2026")];
    let done = b.post(&exit, &leave).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=exit").as_str()), "{}", done.body);
    assert_eq!(status().await, "exited");
    assert_eq!(b.get(&format!("/children/{a1}/no-such-step")).await.status, 404);
}

#[tokio::test]
async fn a_link_worker_adds_an_adult_around_the_child_and_withdraws_a_consent() {
    let zone = Zone::new().await;
    let a1 = zone.child_a1.clone();
    let consent = zone.ready_for_referral(&a1, &[&zone.partner_1]).await;
    let adults = || async { backbone::store::relationship::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = adults().await;
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let path = format!("/children/{a1}/adults/new");
    assert_eq!(b.get(&path).await.status, 200);
    let mut adult = vec![("csrf", csrf.as_str()), ("kind", "CARER"), ("involvement", "ATTENDS_REVIEWS"), ("name", "")];
    let missing = b.post(&path, &adult).await;
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("href=\"#name\""), "{}", missing.body);
    assert_eq!(adults().await, before);
    adult[3] = ("name", "Robin Testcarer");
    adult.push(("parental-responsibility", "yes"));
    let done = b.post(&path, &adult).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=adults-new").as_str()), "{}", done.body);
    assert_eq!(adults().await, before + 1);
    let page = b.get(&format!("/children/{a1}")).await;
    assert!(page.body.contains("Robin Testcarer") && page.body.contains("parental responsibility"), "{}", page.body);

    // Withdrawing the consent in force, from its row.
    let withdraw = format!("/children/{a1}/consents/{consent}/withdraw");
    assert!(page.body.contains(&withdraw), "{}", page.body);
    let withdrawn = || async {
        backbone::store::consent::Entity::find_by_id(consent.clone())
            .one(&zone.app.db)
            .await
            .expect("consent")
            .expect("a row")
            .withdrawn_at
            .is_some()
    };
    let mut why = vec![
        ("csrf", csrf.as_str()),
        ("withdrawn-on-day", "2"),
        ("withdrawn-on-month", "11"),
        ("withdrawn-on-year", "2026"),
    ];
    let missing = b.post(&withdraw, &why).await;
    assert!(missing.body.contains("href=\"#reason\""), "{}", missing.body);
    assert!(!withdrawn().await);
    // A partner may not withdraw it.
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    let theirs = [
        ("csrf", pcsrf.as_str()),
        ("reason", "The family asked"),
        ("withdrawn-on-day", "2"),
        ("withdrawn-on-month", "11"),
        ("withdrawn-on-year", "2026"),
    ];
    let refused = partner.post(&withdraw, &theirs).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert!(!withdrawn().await);
    why.push(("reason", "The family asked for sharing to stop"));
    let done = b.post(&withdraw, &why).await;
    assert_eq!(done.location.as_deref(), Some(format!("/children/{a1}?done=withdraw").as_str()), "{}", done.body);
    assert!(withdrawn().await);
    let page = b.get(&format!("/children/{a1}?done=withdraw")).await;
    assert!(page.body.contains("The consent has been withdrawn.") && page.body.contains("Withdrawn"), "{}", page.body);
}

#[tokio::test]
async fn a_link_worker_accepts_one_screening_candidate_and_dismisses_another() {
    let zone = Zone::with_framework().await;
    let upn = |n: u64| {
        let body = format!("{:012}", 990_000_000_000u64 + n);
        format!("{}{body}", backbone_seeds::upn_check_letter(&body).expect("twelve digits"))
    };
    let csv = format!(
        "upn,attendance_percent,attainment,wellbeing_score,practitioner_concern,statutory_support\n\
         {},70.0,below,20,yes,\n{},80.0,below,20,yes,\n{},75.0,below,20,yes,in_care\n",
        upn(1),
        upn(2),
        upn(3)
    );
    let import = "mutation($file: Upload!) { importAnchorData(file: $file) { candidates } }";
    let imported = zone.app.upload(&zone.anchor_lead.token, import, json!({}), csv.as_bytes()).await;
    assert_ok(&imported);
    let (mut b, csrf) = Browser::signed_in(&zone, &zone.link_worker).await;
    let home = b.get("/").await;
    assert!(home.body.contains("href=\"/candidates\""), "in the header");
    let list = b.get("/candidates").await;
    assert_eq!(list.status, 200, "{}", list.body);
    for shown in [upn(1), upn(2), upn(3), "Already receiving statutory support".to_owned()] {
        assert!(list.body.contains(&shown), "{shown}: {}", list.body);
    }
    let rows = backbone::domain::screening::candidates(
        &zone.app.db,
        &backbone::auth::Actor::system(),
        None,
        backbone::domain::PageRequest { first: 10, after: None },
    )
    .await
    .expect("candidates")
    .items;
    let id_of = |n: u64| rows.iter().find(|r| r.upn == upn(n)).map(|r| r.id.clone()).expect("listed");
    let (first, second, in_care) = (id_of(1), id_of(2), id_of(3));
    assert!(!list.body.contains(&format!("/candidates/{in_care}/accept")), "an excluded pupil has nothing to do");

    // Accept: the identify form, the UPN from the data; a problem first, then identified.
    let accept = format!("/candidates/{first}/accept");
    let form = b.get(&accept).await;
    assert!(form.status == 200 && form.body.contains(&upn(1)), "{}", form.body);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("first-name", "Ivo"),
        ("last-name", "Testchild"),
        ("date-of-birth-day", "4"),
        ("date-of-birth-month", "5"),
        ("date-of-birth-year", "2016"),
        ("year-group", "five"),
    ];
    let wrong = b.post(&accept, &fields).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("href=\"#year-group\""), "{}", wrong.body);
    fields[6] = ("year-group", "5");
    let done = b.post(&accept, &fields).await;
    let child = done.location.clone().unwrap_or_else(|| panic!("to the child's page: {}", done.body));
    let page = b.get(&child).await;
    assert!(page.body.contains("Ivo Testchild") && page.body.contains(&upn(1)), "{}", page.body);

    // A partner neither sees the list nor dismisses; the link worker dismisses the other.
    let (mut partner, pcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(partner.get("/candidates").await.status, 403);
    let refused = partner.post(&format!("/candidates/{second}/dismiss"), &[("csrf", pcsrf.as_str())]).await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    assert!(b.get("/candidates").await.body.contains(&upn(2)), "still listed after the partner's try");
    let dismissed = b.post(&format!("/candidates/{second}/dismiss"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(dismissed.location.as_deref(), Some("/candidates?done=dismissed"), "{}", dismissed.body);
    let after = b.get("/candidates?done=dismissed").await;
    assert!(
        after.body.contains("The candidate has been dismissed.") && !after.body.contains(&upn(2)),
        "{}",
        after.body
    );
    assert_eq!(b.get(&format!("/candidates/{second}/accept")).await.status, 404, "gone");
}

#[tokio::test]
async fn a_partner_lead_adds_a_programme_then_changes_its_places_and_pauses_it() {
    let zone = Zone::new().await;
    let programmes = || async { backbone::store::programme::Entity::find().count(&zone.app.db).await.expect("count") };
    let before = programmes().await;
    let (mut lead, csrf) = Browser::signed_in(&zone, &zone.partner_lead).await;
    let registers = lead.get("/registers").await;
    assert!(registers.body.contains("href=\"/programmes/new\""), "{}", registers.body);
    assert_eq!(lead.get("/programmes/new").await.status, 200);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("name", "Chess Club"),
        ("description", "Chess after school, for all abilities"),
        ("domains", "CONFIDENCE_ASPIRATION"),
        ("minimum-age", "7"),
        ("maximum-age", "11"),
        ("attending", "IN_PERSON"),
        ("location", "Test Library"),
        ("postcode", "ZZ1 1ZZ"),
        ("schedule", "Wednesdays 15:30 to 16:30"),
        ("capacity", "ten"),
    ];
    let wrong = lead.post("/programmes/new", &fields).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("href=\"#capacity\""), "{}", wrong.body);
    assert_eq!(programmes().await, before);
    fields[10] = ("capacity", "10");
    let done = lead.post("/programmes/new", &fields).await;
    let path = done.location.clone().unwrap_or_else(|| panic!("to the programme: {}", done.body));
    assert!(path.ends_with("?done=saved"), "{path}");
    assert_eq!(programmes().await, before + 1);
    let saved = lead.get(&path).await;
    assert!(
        saved.body.contains("The programme has been saved.") && saved.body.contains("Chess Club"),
        "{}",
        saved.body
    );
    let edit = path.trim_end_matches("?done=saved").to_owned();

    // Another partner's worker, and the lead's own worker, may not change it.
    let (mut worker, wcsrf) = Browser::signed_in(&zone, &zone.partner_worker).await;
    assert_eq!(worker.get("/programmes/new").await.status, 403);
    assert_eq!(worker.get(&edit).await.status, 403);
    let mut theirs = fields.clone();
    theirs[0] = ("csrf", wcsrf.as_str());
    theirs.push(("status", "PAUSED"));
    assert_eq!(worker.post(&edit, &theirs).await.status, 403);

    fields[10] = ("capacity", "4");
    fields.push(("status", "PAUSED"));
    let changed = lead.post(&edit, &fields).await;
    assert_eq!(changed.location.as_deref(), Some(path.as_str()), "{}", changed.body);
    let id = edit.trim_start_matches("/programmes/");
    let stored = backbone::store::programme::Entity::find_by_id(id.to_owned())
        .one(&zone.app.db)
        .await
        .expect("programme")
        .expect("a row");
    assert_eq!((stored.capacity, stored.status.as_str()), (4, "paused"));
    assert!(lead.get("/registers").await.body.contains("(paused)"));
}
