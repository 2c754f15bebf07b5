//! Per-request batch loaders. Built for each request with the caller's [`Actor`], so the
//! row scope applies inside every batch and no cache is shared between callers (the
//! loader does not cache: each load reads the database as it is now). A list of N children
//! costs a fixed number of queries, not N; and the batches of one level run as one
//! statement on PostgreSQL (`store::bundle`).

use crate::auth::Actor;
use crate::domain::{
    accounts, casework, children, consent, corrections, engagement, outcomes, programmes, referrals, sessions,
};
use crate::error::Error;
use crate::store::bundle::Bundle;
use crate::store::{
    assessment, attendance, child, consent as consent_store, correction, enrolment, enrolment_transition, handover,
    lawful_basis, organisation, participation, programme, progress_note, referral, referral_transition, relationship,
    safeguarding_concern, session, user,
};
use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use std::sync::Arc;

/// The loader of one request: its batches read through one [`Bundle`], so those of one
/// level of the query run as one statement.
pub struct StoreLoader {
    pub db: Bundle,
    pub actor: Actor,
}

impl StoreLoader {
    /// The loader of a request by `actor`.
    pub fn new(db: &DatabaseConnection, actor: &Actor) -> StoreLoader {
        StoreLoader { db: Bundle::new(db.clone()), actor: actor.clone() }
    }
}

type Shared = Arc<Error>;

fn ids<K>(keys: &[K], get: impl Fn(&K) -> String) -> Vec<String> {
    keys.iter().map(get).collect()
}

/// Groups rows under the key they belong to.
fn group<K: std::hash::Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

/// Declares a key type and its loader. `one`: the fetch returns rows, one per key;
/// `many`: rows grouped per key; `map`: the fetch returns a map by key already. Every fetch
/// is a domain function `(conn, actor, ids)` that applies the caller's scope.
macro_rules! loader {
    (one $key:ident => $value:ty, $fetch:path, |$r:ident| $key_of:expr) => {
        key!($key);
        impl Loader<$key> for StoreLoader {
            type Value = $value;
            type Error = Shared;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Shared> {
                let rows = $fetch(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
                Ok(rows.into_iter().map(|$r| ($key($key_of), $r)).collect())
            }
        }
    };
    (many $key:ident => $value:ty, $fetch:path, |$r:ident| $key_of:expr) => {
        key!($key);
        impl Loader<$key> for StoreLoader {
            type Value = Vec<$value>;
            type Error = Shared;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Vec<$value>>, Shared> {
                let rows = $fetch(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
                Ok(group(rows, |$r| $key($key_of)))
            }
        }
    };
    (map $key:ident => $value:ty, $fetch:path) => {
        key!($key);
        impl Loader<$key> for StoreLoader {
            type Value = $value;
            type Error = Shared;
            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Shared> {
                let rows = $fetch(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
                Ok(rows.into_iter().map(|(k, v)| ($key(k), v)).collect())
            }
        }
    };
}

macro_rules! key {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub String);
    };
}

loader!(one OrganisationById => organisation::Model, accounts::organisations_by_ids, |r| r.id.clone());
loader!(one ProgrammeById => programme::Model, programmes::by_ids, |r| r.id.clone());
loader!(one ChildById => child::Model, children::by_ids, |r| r.id.clone());
loader!(one EnrolmentOfChild => enrolment::Model, children::enrolments_of, |r| r.child_id.clone());
loader!(many RelationshipsOfChild => relationship::Model, children::relationships_of, |r| r.child_id.clone());
loader!(many ConsentsOfChild => consent_store::Model, consent::consents_of, |r| r.child_id.clone());
loader!(many ParticipationOfChild => participation::Model, consent::participation_of, |r| r.child_id.clone());
loader!(many LawfulBasesOfChild => lawful_basis::Model, consent::lawful_bases_of, |r| r.child_id.clone());
loader!(many HistoryOfEnrolment => enrolment_transition::Model, children::transitions_of, |r| r.enrolment_id.clone());
loader!(one UserById => user::Model, children::users_by_id, |r| r.id.clone());
loader!(many ReferralsOfChild => referral::Model, referrals::of_children, |r| r.child_id.clone());
loader!(many HistoryOfReferral => referral_transition::Model, referrals::history_of, |r| r.referral_id.clone());
loader!(one SessionById => session::Model, sessions::by_ids, |r| r.id.clone());
loader!(many AttendanceOfSession => attendance::Model, sessions::attendance_of_sessions, |r| r.session_id.clone());
loader!(many AttendanceOfReferral => attendance::Model, sessions::attendance_of_referrals, |r| r.referral_id.clone());
loader!(map EngagementOfReferral => engagement::Attendance, engagement::by_referral);
loader!(map EngagementOfChild => engagement::Attendance, engagement::by_child);
loader!(map ContactsOfChild => engagement::Contact, engagement::contacts_by_child);
loader!(many NotesOfChild => progress_note::Model, casework::notes_of, |r| r.child_id.clone());
loader!(many ConcernsOfChild => safeguarding_concern::Model, casework::concerns_of, |r| r.child_id.clone());
loader!(many AssessmentsOfChild => assessment::Model, outcomes::of_children, |r| r.child_id.clone());
loader!(many HandoversOfChild => handover::Model, casework::handovers_of, |r| r.child_id.clone());
loader!(many CorrectionsOfRecord => correction::Model, corrections::of_records, |r| r.record_id.clone());

key!(PartnersOfConsent);
key!(PlacesTaken);

impl Loader<PartnersOfConsent> for StoreLoader {
    type Value = Vec<String>;
    type Error = Shared;
    async fn load(&self, keys: &[PartnersOfConsent]) -> Result<HashMap<PartnersOfConsent, Self::Value>, Shared> {
        let rows = consent::partners_of(&self.db, &ids(keys, |k| k.0.clone())).await?;
        let grouped = group(rows, |r| PartnersOfConsent(r.consent_id.clone()));
        Ok(grouped.into_iter().map(|(k, v)| (k, v.into_iter().map(|r| r.organisation_id).collect())).collect())
    }
}

impl Loader<PlacesTaken> for StoreLoader {
    type Value = i64;
    type Error = Shared;
    async fn load(&self, keys: &[PlacesTaken]) -> Result<HashMap<PlacesTaken, i64>, Shared> {
        let taken = programmes::places_taken(&self.db, &ids(keys, |k| k.0.clone())).await?;
        Ok(taken.into_iter().map(|(k, v)| (PlacesTaken(k), v)).collect())
    }
}

// Individual support plans (`domain::plans`): each plan's parts, goals and reviews in one
// batch per nested field, whatever the number of children.
use crate::domain::plans;
use crate::store::{plan_goal, plan_review, plan_review_goal, support_plan};

loader!(one SupportPlanOfChild => support_plan::Model, plans::of_children, |r| r.child_id.clone());
loader!(many GoalsOfPlan => plan_goal::Model, plans::goals_of, |r| r.plan_id.clone());
loader!(one PlanGoalById => plan_goal::Model, plans::goals_by_ids, |r| r.id.clone());
loader!(many ReviewsOfPlan => plan_review::Model, plans::reviews_of, |r| r.plan_id.clone());
loader!(many OutcomesOfReview => plan_review_goal::Model, plans::outcomes_of, |r| r.review_id.clone());
loader!(map ParticipantsOfPlan => Vec<relationship::Model>, plans::participants_of);
loader!(map SpecialistSupportOfPlan => Vec<referral::Model>, plans::specialist_support_of);
key!(AreaNameOfCode);

impl Loader<AreaNameOfCode> for StoreLoader {
    type Value = String;
    type Error = Shared;
    async fn load(&self, keys: &[AreaNameOfCode]) -> Result<HashMap<AreaNameOfCode, String>, Shared> {
        // The framework is one document, read whole: nothing to bundle.
        let names = plans::area_names(self.db.connection(), &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(names.into_iter().map(|(k, v)| (AreaNameOfCode(k), v)).collect())
    }
}
