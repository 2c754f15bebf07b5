//! The programme directory in the shape of the Open Referral UK (ORUK 3.0) service
//! standard: `backbone export directory` writes it as an ORUK `/services` page, so a local
//! service directory can import the partnership's offer. Programmes' own fields are named
//! after ORUK's where it has them (name, description, status, minimum/maximum age,
//! schedule, location); outcome domains become taxonomy attributes; capacity, which ORUK
//! does not carry, stays out.

use crate::domain::{AttendingType, OutcomeDomain, ProgrammeStatus, parse_list};
use crate::error::Result;
use crate::store::{organisation, programme};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The vocabulary the outcome-domain taxonomy terms belong to.
pub const VOCABULARY: &str = "backbone-outcome-domains";

fn service(p: &programme::Model, org: Option<&organisation::Model>) -> Result<Value> {
    let status = match ProgrammeStatus::from_stored(&p.status)? {
        ProgrammeStatus::Active => "active",
        ProgrammeStatus::Paused => "temporarily closed",
    };
    let attending = AttendingType::from_stored(&p.attending_type)?;
    let mut locations = Vec::new();
    if attending != AttendingType::Online {
        locations.push(json!({
            "id": format!("{}-physical", p.id),
            "location": {
                "id": format!("{}-location", p.id),
                "location_type": "physical",
                "name": p.location_name,
                "addresses": p.postcode.as_ref().map(|pc| vec![json!({"address_type": "physical", "postal_code": pc})]).unwrap_or_default(),
            }
        }));
    }
    if attending != AttendingType::InPerson {
        locations.push(json!({
            "id": format!("{}-virtual", p.id),
            "location": { "id": format!("{}-virtual-location", p.id), "location_type": "virtual", "name": "Online" }
        }));
    }
    let attributes = parse_list(&p.domains, OutcomeDomain::from_stored)?
        .into_iter()
        .map(|d| json!({"taxonomy_term": {"code": d.as_str(), "vocabulary": VOCABULARY, "name": d.as_str().replace('_', " ")}}))
        .collect::<Vec<_>>();
    Ok(json!({
        "id": p.id,
        "organization_id": p.organisation_id,
        "organization": org.map(|o| json!({"id": o.id, "name": o.name})),
        "name": p.name,
        "description": p.description,
        "status": status,
        "minimum_age": p.minimum_age,
        "maximum_age": p.maximum_age,
        "schedules": [{"id": format!("{}-schedule", p.id), "description": p.schedule}],
        "service_at_locations": locations,
        "attributes": attributes,
        "last_modified": p.updated_at.to_rfc3339(),
    }))
}

/// Every programme, active and paused, as one ORUK `/services` page.
pub async fn oruk_services<C: ConnectionTrait>(conn: &C) -> Result<Value> {
    let programmes = programme::Entity::find().order_by_asc(programme::Column::Id).all(conn).await?;
    let orgs: HashMap<String, organisation::Model> =
        organisation::Entity::find().all(conn).await?.into_iter().map(|o| (o.id.clone(), o)).collect();
    let contents = programmes.iter().map(|p| service(p, orgs.get(&p.organisation_id))).collect::<Result<Vec<_>>>()?;
    let n = contents.len();
    Ok(json!({
        "total_items": n,
        "total_pages": 1,
        "page_number": 1,
        "size": n,
        "first_page": true,
        "last_page": true,
        "empty": n == 0,
        "contents": contents,
    }))
}
