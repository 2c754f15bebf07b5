//! Per-request batch loaders. Built for each request with the caller's [`Actor`], so the
//! row scope applies inside every batch and no cache is shared between callers. A list
//! of N children costs a fixed number of queries, not N.

use crate::auth::Actor;
use crate::domain::{children, consent};
use crate::error::Error;
use crate::store::{
    consent as consent_store, enrolment, enrolment_transition, lawful_basis, organisation, participation, relationship,
    user,
};
use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::Arc;

/// The loader of one request.
pub struct StoreLoader {
    pub db: DatabaseConnection,
    pub actor: Actor,
}

type Shared = Arc<Error>;

macro_rules! key {
    ($name:ident) => {
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub String);
    };
}

key!(EnrolmentOfChild);
key!(RelationshipsOfChild);
key!(ConsentsOfChild);
key!(PartnersOfConsent);
key!(ParticipationOfChild);
key!(LawfulBasesOfChild);
key!(HistoryOfEnrolment);
key!(OrganisationById);
key!(UserById);

fn ids<K: Clone>(keys: &[K], get: impl Fn(&K) -> String) -> Vec<String> {
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

impl Loader<EnrolmentOfChild> for StoreLoader {
    type Value = enrolment::Model;
    type Error = Shared;
    async fn load(&self, keys: &[EnrolmentOfChild]) -> Result<HashMap<EnrolmentOfChild, Self::Value>, Shared> {
        let rows = children::enrolments_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(rows.into_iter().map(|r| (EnrolmentOfChild(r.child_id.clone()), r)).collect())
    }
}

impl Loader<RelationshipsOfChild> for StoreLoader {
    type Value = Vec<relationship::Model>;
    type Error = Shared;
    async fn load(&self, keys: &[RelationshipsOfChild]) -> Result<HashMap<RelationshipsOfChild, Self::Value>, Shared> {
        let rows = children::relationships_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(group(rows, |r| RelationshipsOfChild(r.child_id.clone())))
    }
}

impl Loader<ConsentsOfChild> for StoreLoader {
    type Value = Vec<consent_store::Model>;
    type Error = Shared;
    async fn load(&self, keys: &[ConsentsOfChild]) -> Result<HashMap<ConsentsOfChild, Self::Value>, Shared> {
        let rows = consent::consents_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(group(rows, |r| ConsentsOfChild(r.child_id.clone())))
    }
}

impl Loader<PartnersOfConsent> for StoreLoader {
    type Value = Vec<String>;
    type Error = Shared;
    async fn load(&self, keys: &[PartnersOfConsent]) -> Result<HashMap<PartnersOfConsent, Self::Value>, Shared> {
        let rows = consent::partners_of(&self.db, &ids(keys, |k| k.0.clone())).await?;
        let grouped = group(rows, |r| PartnersOfConsent(r.consent_id.clone()));
        Ok(grouped.into_iter().map(|(k, v)| (k, v.into_iter().map(|r| r.organisation_id).collect())).collect())
    }
}

impl Loader<ParticipationOfChild> for StoreLoader {
    type Value = Vec<participation::Model>;
    type Error = Shared;
    async fn load(&self, keys: &[ParticipationOfChild]) -> Result<HashMap<ParticipationOfChild, Self::Value>, Shared> {
        let rows = consent::participation_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(group(rows, |r| ParticipationOfChild(r.child_id.clone())))
    }
}

impl Loader<LawfulBasesOfChild> for StoreLoader {
    type Value = Vec<lawful_basis::Model>;
    type Error = Shared;
    async fn load(&self, keys: &[LawfulBasesOfChild]) -> Result<HashMap<LawfulBasesOfChild, Self::Value>, Shared> {
        let rows = consent::lawful_bases_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(group(rows, |r| LawfulBasesOfChild(r.child_id.clone())))
    }
}

impl Loader<HistoryOfEnrolment> for StoreLoader {
    type Value = Vec<enrolment_transition::Model>;
    type Error = Shared;
    async fn load(&self, keys: &[HistoryOfEnrolment]) -> Result<HashMap<HistoryOfEnrolment, Self::Value>, Shared> {
        let rows = children::transitions_of(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(group(rows, |r| HistoryOfEnrolment(r.enrolment_id.clone())))
    }
}

impl Loader<OrganisationById> for StoreLoader {
    type Value = organisation::Model;
    type Error = Shared;
    async fn load(&self, keys: &[OrganisationById]) -> Result<HashMap<OrganisationById, Self::Value>, Shared> {
        let rows = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(ids(keys, |k| k.0.clone())))
            .all(&self.db)
            .await
            .map_err(|e| Arc::new(Error::from(e)))?;
        Ok(rows.into_iter().map(|r| (OrganisationById(r.id.clone()), r)).collect())
    }
}

impl Loader<UserById> for StoreLoader {
    type Value = user::Model;
    type Error = Shared;
    async fn load(&self, keys: &[UserById]) -> Result<HashMap<UserById, Self::Value>, Shared> {
        let rows = children::users_by_id(&self.db, &self.actor, &ids(keys, |k| k.0.clone())).await?;
        Ok(rows.into_iter().map(|r| (UserById(r.id.clone()), r)).collect())
    }
}
