//! The demo zone: the synthetic data of `backbone-seeds`, written through the same domain
//! use cases a user would call (as [`Actor::system`]), so it is validated and audited like
//! real work. Idempotent: a database that already holds the zone is left alone.

use crate::auth::Actor;
use crate::domain::consent::{NewConsent, NewLawfulBasis, NewParticipation, Withdrawal};
use crate::domain::enrolment::{Enrol, Transition};
use crate::domain::{self, accounts, children, consent, enrolment};
use crate::store::organisation;
use backbone_seeds as seeds;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;

/// The demo accounts, as printed at start-up: (email, what they show).
pub const DEMO_ACCOUNTS: &[(&str, &str)] = &[
    ("linkworker@demo.zone", "link worker: a caseload at the primary school"),
    ("anchorlead@demo.zone", "anchor lead of the primary school (designated safeguarding lead)"),
    ("partner@demo.zone", "partner worker at a mentoring charity"),
    ("partnerlead@demo.zone", "partner lead at the same charity"),
    ("funder@demo.zone", "funder: aggregates only"),
    ("analyst@demo.zone", "backbone analyst: pseudonymised records"),
    ("admin@demo.zone", "backbone admin: everything, every read audited"),
];

fn org_kind(k: seeds::OrganisationKind) -> domain::OrganisationKind {
    match k {
        seeds::OrganisationKind::Backbone => domain::OrganisationKind::Backbone,
        seeds::OrganisationKind::Anchor => domain::OrganisationKind::Anchor,
        seeds::OrganisationKind::Partner => domain::OrganisationKind::Partner,
        seeds::OrganisationKind::Funder => domain::OrganisationKind::Funder,
    }
}

fn role(r: seeds::Role) -> domain::Role {
    match r {
        seeds::Role::LinkWorker => domain::Role::LinkWorker,
        seeds::Role::AnchorLead => domain::Role::AnchorLead,
        seeds::Role::PartnerWorker => domain::Role::PartnerWorker,
        seeds::Role::PartnerLead => domain::Role::PartnerLead,
        seeds::Role::Funder => domain::Role::Funder,
        seeds::Role::BackboneAnalyst => domain::Role::BackboneAnalyst,
        seeds::Role::BackboneAdmin => domain::Role::BackboneAdmin,
    }
}

fn giver(g: seeds::GiverKind) -> domain::GiverKind {
    match g {
        seeds::GiverKind::Parent => domain::GiverKind::Parent,
        seeds::GiverKind::Carer => domain::GiverKind::Carer,
        seeds::GiverKind::Child => domain::GiverKind::Child,
    }
}

fn relationship_kind(k: seeds::RelationshipKind) -> domain::RelationshipKind {
    match k {
        seeds::RelationshipKind::Parent => domain::RelationshipKind::Parent,
        seeds::RelationshipKind::Carer => domain::RelationshipKind::Carer,
        seeds::RelationshipKind::TrustedAdult => domain::RelationshipKind::TrustedAdult,
    }
}

fn involvement(i: seeds::Involvement) -> domain::Involvement {
    match i {
        seeds::Involvement::MainContact => domain::Involvement::MainContact,
        seeds::Involvement::AttendsReviews => domain::Involvement::AttendsReviews,
        seeds::Involvement::ReceivesUpdates => domain::Involvement::ReceivesUpdates,
        seeds::Involvement::SupportsAtHome => domain::Involvement::SupportsAtHome,
        seeds::Involvement::Mentor => domain::Involvement::Mentor,
    }
}

fn exit_reason(r: seeds::ExitReason) -> domain::ExitReason {
    match r {
        seeds::ExitReason::MovedAway => domain::ExitReason::MovedAway,
        seeds::ExitReason::FamilyWithdrew => domain::ExitReason::FamilyWithdrew,
        seeds::ExitReason::StatutoryServices => domain::ExitReason::StatutoryServices,
        seeds::ExitReason::Disengaged => domain::ExitReason::Disengaged,
        seeds::ExitReason::Other => domain::ExitReason::Other,
    }
}

fn purpose(p: seeds::Purpose) -> domain::Purpose {
    match p {
        seeds::Purpose::Referral => domain::Purpose::Referral,
        seeds::Purpose::ProgressMonitoring => domain::Purpose::ProgressMonitoring,
        seeds::Purpose::Evaluation => domain::Purpose::Evaluation,
    }
}

/// The enrolment transitions that bring a child from `consented` to `stage`.
fn transitions_after_consent(c: &seeds::Child) -> Vec<Transition> {
    use seeds::Stage::*;
    match c.stage {
        Identified | Consented => vec![],
        Enrolled => vec![Transition::Enrol],
        Active => vec![Transition::Enrol, Transition::StartSupport],
        Completed => vec![Transition::Enrol, Transition::StartSupport, Transition::Complete],
        // An exited child who got as far as a lawful basis had been enrolled.
        Exited(_) if c.lawful_basis.is_some() => vec![Transition::Enrol],
        Exited(_) => vec![],
    }
}

/// Writes the demo zone unless it is already there. `progress(done, total)` is called as
/// children are written. Returns whether anything was written.
pub async fn seed(db: &DatabaseConnection, mut progress: impl FnMut(usize, usize)) -> anyhow::Result<bool> {
    let zone = seeds::demo_zone();
    let marker = &zone.organisations[0].name;
    let exists = organisation::Entity::find().filter(organisation::Column::Name.eq(marker.clone())).one(db).await?;
    if exists.is_some() {
        return Ok(false);
    }
    let system = Actor::system();
    let mut orgs: HashMap<String, String> = HashMap::new();
    for o in &zone.organisations {
        let input = accounts::NewOrganisation { name: o.name.clone(), kind: org_kind(o.kind) };
        let created = accounts::create_organisation(db, &system, input).await?;
        orgs.insert(o.key.clone(), created.id);
    }
    let org = |key: &str| orgs.get(key).cloned().ok_or_else(|| anyhow::anyhow!("unknown organisation key {key}"));
    let mut users: HashMap<String, String> = HashMap::new();
    for a in &zone.accounts {
        let input = accounts::NewAccount {
            email: a.email.clone(),
            display_name: a.display_name.clone(),
            password: seeds::DEMO_PASSWORD.to_owned(),
            organisation_id: org(&a.organisation_key)?,
            role: role(a.role),
            designated_safeguarding_lead: a.designated_safeguarding_lead,
            is_demo: true,
        };
        let created = accounts::create_account(db, &system, input).await?;
        users.insert(a.email.clone(), created.id);
    }
    let total = zone.children.len();
    for (n, c) in zone.children.iter().enumerate() {
        seed_child(db, &system, c, &org, &users).await?;
        if (n + 1) % 25 == 0 || n + 1 == total {
            progress(n + 1, total);
        }
    }
    Ok(true)
}

async fn seed_child(
    db: &DatabaseConnection,
    system: &Actor,
    c: &seeds::Child,
    org: &impl Fn(&str) -> anyhow::Result<String>,
    users: &HashMap<String, String>,
) -> anyhow::Result<()> {
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let new = children::NewChild {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        date_of_birth: date(c.date_of_birth),
        anchor_id: Some(org(&c.anchor_key)?),
        year_group: i32::from(c.year_group),
        upn: c.upn.clone(),
        contact_phone: c.contact_phone.clone(),
        contact_email: c.contact_email.clone(),
        postcode: c.postcode.clone(),
        free_school_meals: c.free_school_meals,
        send: c.send,
        eal: c.eal,
        looked_after: c.looked_after,
        note: Some("Identified from attendance and wellbeing data".into()),
    };
    let child = children::identify(db, system, new).await?;
    if let Some(worker) = c.link_worker_email.as_ref().and_then(|e| users.get(e)) {
        crate::domain::casework::hand_over(db, system, &child.id, worker, None).await?;
    }
    for r in &c.relationships {
        let input = children::NewRelationship {
            child_id: child.id.clone(),
            kind: relationship_kind(r.kind),
            name: r.name.clone(),
            involvement: involvement(r.involvement),
            parental_responsibility: r.parental_responsibility,
            phone: r.phone.clone(),
            notes: None,
        };
        children::add_relationship(db, system, input).await?;
    }
    if let Some(p) = &c.participation {
        let input = NewParticipation {
            child_id: child.id.clone(),
            agreed_by: giver(p.agreed_by),
            agreed_by_name: p.agreed_by_name.clone(),
            agreed_on: date(p.agreed_on),
            evidence: p.evidence.clone(),
        };
        consent::record_participation(db, system, input).await?;
    }
    if let Some(b) = &c.lawful_basis {
        let input = NewLawfulBasis {
            child_id: child.id.clone(),
            basis: match b.basis {
                seeds::LawfulBasisKind::PublicTask => domain::LawfulBasisKind::PublicTask,
                seeds::LawfulBasisKind::LegitimateInterests => domain::LawfulBasisKind::LegitimateInterests,
            },
            special_category: b.special_category.map(|s| match s {
                seeds::SpecialCategoryCondition::SubstantialPublicInterest => {
                    domain::SpecialCategoryCondition::SubstantialPublicInterest
                }
                seeds::SpecialCategoryCondition::HealthOrSocialCare => {
                    domain::SpecialCategoryCondition::HealthOrSocialCare
                }
            }),
            data_sharing_agreement: b.data_sharing_agreement.clone(),
        };
        consent::record_lawful_basis(db, system, input).await?;
    }
    for k in &c.consents {
        let partner_ids = k.partner_keys.iter().map(|p| org(p)).collect::<anyhow::Result<Vec<_>>>()?;
        let input = NewConsent {
            child_id: child.id.clone(),
            given_by: giver(k.given_by),
            given_by_name: k.given_by_name.clone(),
            given_on: date(k.given_on),
            purposes: k.purposes.iter().map(|p| purpose(*p)).collect(),
            partner_ids,
            evidence: k.evidence.clone(),
        };
        let recorded = consent::record_consent(db, system, input).await?;
        if let (Some(on), Some(reason)) = (k.withdrawn_on, &k.withdrawal_reason) {
            let input = Withdrawal { consent_id: recorded.id, withdrawn_on: date(on), reason: reason.clone() };
            consent::withdraw_consent(db, system, input).await?;
        }
    }
    for t in transitions_after_consent(c) {
        match t {
            Transition::Enrol => {
                let cohort = c.cohort.clone();
                enrolment::enrol(db, system, Enrol { child_id: child.id.clone(), cohort }).await?;
            }
            other => {
                enrolment::transition(db, system, &child.id, other, None).await?;
            }
        }
    }
    if let seeds::Stage::Exited(reason) = c.stage {
        let note = Some("Left the programme".to_owned());
        enrolment::transition(db, system, &child.id, Transition::Exit(exit_reason(reason)), note).await?;
    }
    Ok(())
}
