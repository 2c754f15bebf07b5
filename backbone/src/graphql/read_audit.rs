//! Every child a response contains is audited, whatever path reached it: one rule in one
//! place. Each GraphQL type that carries a child's record (the child, and each record
//! hanging off a child: referral, register line, contact, note, assessment, plan, consent,
//! relationship, …) is built only by a constructor that calls [`note`], which records
//! (action, child id, the fields selected) in the operation's [`ReadLog`]. The
//! [`ReadAudit`] extension gives every operation — a query or mutation over HTTP, an
//! operation over WebSocket, each subscription event — a fresh log, and once the response
//! is built writes it in one audited transaction ([`ReadLog::flush`]). If that write fails,
//! the response is replaced by an `INTERNAL` error: nothing is returned unaudited.

use crate::audit::ReadLog;
use crate::error::Error;
use crate::graphql::errors::to_gql;
use crate::graphql::{Identity, Services, selected_child_fields};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Context, Data, Response};
use std::sync::Arc;

/// The audit action of a read of each GraphQL type that carries a child's record. A type
/// reachable from `Child` in the schema is either here or in [`NOT_CHILD_RECORDS`] (the
/// integration suite walks the schema and checks both).
pub const READ_ACTIONS: &[(&str, &str)] = &[
    ("Child", "child.read"),
    ("Enrolment", "enrolment.read"),
    ("Relationship", "relationship.read"),
    ("ParticipationAgreement", "participation.read"),
    ("LawfulBasis", "lawful_basis.read"),
    ("Consent", "consent.read"),
    ("Referral", "referral.read"),
    ("AttendanceRecord", "attendance.read"),
    ("Contact", "contact.read"),
    ("ProgressNote", "note.read"),
    ("SafeguardingConcern", "safeguarding.read"),
    ("Handover", "handover.read"),
    ("Assessment", "assessment.read"),
    ("SupportPlan", "plan.read"),
    ("PlanGoal", "plan_goal.read"),
    ("PlanReview", "plan_review.read"),
];

/// Types reachable from `Child` that are not one child's record, and why they need no
/// read event of their own.
pub const NOT_CHILD_RECORDS: &[(&str, &str)] = &[
    ("Organisation", "the partnership's directory"),
    ("User", "staff accounts named on records"),
    ("Programme", "the programme directory"),
    ("Session", "a partner's session; its register lines are audited per child"),
    ("Characteristics", "part of the child, audited as the child's `characteristics` field"),
    ("SupportPackage", "part of the child, audited as `supportPackage`; its referrals per referral"),
    ("EngagementSummary", "counts, audited as the child's or referral's `engagement` field"),
    ("MeasureProgress", "derived from assessments, audited as the child's `progress` field"),
    ("EnrolmentTransition", "part of the enrolment, audited as its `history` field"),
    ("ReferralTransition", "part of the referral, audited as its `history` field"),
    ("GoalOutcome", "part of the review, audited as its `outcomes` field"),
    ("ContactConnection", "a page of contacts, audited per contact"),
    ("ContactEdge", "a page of contacts, audited per contact"),
    ("PageInfo", "pagination"),
    ("Correction", "part of the record it corrects, audited as that record's `corrections` field"),
];

fn action_of(type_name: &str) -> &'static str {
    READ_ACTIONS.iter().find(|(t, _)| *t == type_name).map_or("record.read", |(_, a)| *a)
}

/// Notes that the response being built contains `type_name`'s record of `child_id`, with
/// the fields selected under the current field (`ctx`, the field returning the record or a
/// list or connection of them). Fails closed: without a read log (an operation the
/// extension did not wrap), nothing is returned.
pub(crate) fn note(ctx: &Context<'_>, type_name: &str, child_id: &str) -> async_graphql::Result<()> {
    let log =
        ctx.data_opt::<Arc<ReadLog>>().ok_or_else(|| to_gql(&Error::Internal(anyhow::anyhow!("read log missing"))))?;
    log.note(action_of(type_name), child_id, selected_child_fields(ctx));
    Ok(())
}

/// The extension that gives each operation its read log and writes it before answering.
pub struct ReadAudit;

impl ExtensionFactory for ReadAudit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ReadAuditExtension)
    }
}

struct ReadAuditExtension;

#[async_trait::async_trait]
impl Extension for ReadAuditExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let log = Arc::new(ReadLog::default());
        let mut data = Data::default();
        data.insert(log.clone());
        let response = next.run_with_data(ctx, operation_name, data).await;
        let (Some(Identity::Known(actor)), Some(services)) = (ctx.data_opt::<Identity>(), ctx.data_opt::<Services>())
        else {
            // No caller: no child can have been read.
            return response;
        };
        match log.flush(&services.db, actor).await {
            Ok(()) => response,
            Err(e) => {
                let e = match e {
                    Error::Internal(_) => e,
                    other => Error::Internal(anyhow::anyhow!("writing the read audit failed: {other}")),
                };
                Response::from_errors(vec![to_gql(&e).into_server_error(Default::default())])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::audit::ReadLog;

    #[test]
    fn a_read_log_holds_one_entry_per_child_and_action_with_the_fields_united() {
        let log = ReadLog::default();
        log.note("child.read", "c1", vec!["lastName".into(), "firstName".into()]);
        log.note("referral.read", "c1", vec!["needs".into()]);
        log.note("child.read", "c2", vec!["id".into()]);
        log.note("child.read", "c1", vec!["id".into(), "firstName".into()]);
        assert_eq!(
            log.entries(),
            vec![
                ("child.read".to_owned(), "c1".to_owned(), vec!["firstName".into(), "id".into(), "lastName".into()]),
                ("referral.read".to_owned(), "c1".to_owned(), vec!["needs".into()]),
                ("child.read".to_owned(), "c2".to_owned(), vec!["id".into()]),
            ]
        );
    }
}
