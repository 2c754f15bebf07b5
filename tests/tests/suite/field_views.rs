//! The field matrix (`access::FIELD_MATRIX`) is what each view sees: every text field
//! reachable from a child (found by walking the served schema) is asked in the rich zone
//! as an admin — where each has a value — and as an analyst and a partner; any that comes
//! back with a value and is not in the matrix's allow list for that view fails the test,
//! so a new field is withheld until someone adds it to the matrix.

use crate::schema_walk::{Types, reachable, rich_zone, types};
use backbone::access::{ChildView, may_see_named};
use backbone_tests::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A selection: a field, its type, and (for objects) what is selected under it.
struct Node {
    field: String,
    ty: String,
    children: Vec<Node>,
}

/// Every text field under `ty`, through objects not already on the path.
fn tree(types: &Types, ty: &str, path: &mut Vec<String>) -> Vec<Node> {
    let mut out = Vec::new();
    for f in types.get(ty).into_iter().flatten() {
        if !f.required_args.is_empty() {
            continue;
        }
        if f.kind == "SCALAR" && f.ty == "String" {
            out.push(Node { field: f.name.clone(), ty: f.ty.clone(), children: Vec::new() });
        } else if f.kind == "OBJECT" && !path.contains(&f.ty) && path.len() < 6 {
            path.push(f.ty.clone());
            let children = tree(types, &f.ty, path);
            path.pop();
            if !children.is_empty() {
                out.push(Node { field: f.name.clone(), ty: f.ty.clone(), children });
            }
        }
    }
    out
}

fn source(nodes: &[Node]) -> String {
    nodes
        .iter()
        .map(
            |n| {
                if n.children.is_empty() {
                    n.field.clone()
                } else {
                    format!("{} {{ {} }}", n.field, source(&n.children))
                }
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

/// The (type, field) of every text field with a value in `v`, an object of type `ty`.
fn with_values(v: &Value, ty: &str, nodes: &[Node], out: &mut BTreeSet<(String, String)>) {
    match v {
        Value::Array(l) => l.iter().for_each(|x| with_values(x, ty, nodes, out)),
        Value::Object(m) => {
            for n in nodes {
                match m.get(&n.field) {
                    None | Some(Value::Null) => {}
                    Some(x) if n.children.is_empty() => {
                        if x.as_str().is_some_and(|s| !s.is_empty()) || x.as_array().is_some_and(|l| !l.is_empty()) {
                            out.insert((ty.to_owned(), n.field.clone()));
                        }
                    }
                    Some(x) => with_values(x, &n.ty, &n.children, out),
                }
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn analysts_and_partners_see_no_text_field_the_matrix_does_not_allow_them() {
    let rich = rich_zone().await;
    let zone = &rich.zone;
    let types = types(zone).await;
    let mut path = vec!["Child".to_owned()];
    let child = tree(&types, "Child", &mut path);

    // Each of the child's fields on its own, so that one refusal (safeguarding) does not
    // hide the rest.
    let ask = async |who: &Account| {
        let mut seen = BTreeSet::new();
        for n in &child {
            let q = format!("{{ child(id: \"{}\") {{ id {} }} }}", rich.c, source(std::slice::from_ref(n)));
            let body = zone.as_(who, &q, json!({})).await;
            with_values(&body["data"]["child"], "Child", std::slice::from_ref(n), &mut seen);
        }
        seen
    };
    let full = ask(&zone.admin).await;

    // The rich zone fills in every text field reachable from the child (for the full view).
    let mut all = BTreeSet::new();
    for t in reachable(&types, "Child") {
        for f in &types[&t] {
            if f.kind == "SCALAR" && f.ty == "String" && f.required_args.is_empty() {
                all.insert((t.clone(), f.name.clone()));
            }
        }
    }
    let unfilled: Vec<_> = all.difference(&full).collect();
    assert!(unfilled.is_empty(), "text fields with no value in the full view (fill them in the fixture): {unfilled:?}");
    assert!(full.len() > 40, "{full:?}");

    for (who, view) in [(&zone.analyst, ChildView::Pseudonymised), (&zone.partner_worker, ChildView::Partner)] {
        let seen = ask(who).await;
        let leaked: Vec<_> = seen.iter().filter(|(t, f)| !may_see_named(view, t, f)).collect();
        assert!(leaked.is_empty(), "{view:?} view sees fields the matrix withholds: {leaked:?}");
        // And the allowances are real: the view does see what the matrix gives it.
        let expected: &[(&str, &str)] = match view {
            ChildView::Pseudonymised => &[("Assessment", "area"), ("LawfulBasis", "dataSharingAgreement")],
            _ => &[("Child", "firstName"), ("Referral", "needs"), ("ProgressNote", "body"), ("Session", "notes")],
        };
        for (t, f) in expected {
            assert!(seen.contains(&((*t).to_owned(), (*f).to_owned())), "{view:?} should see {t}.{f}: {seen:?}");
        }
    }
    // The report's example, named: an analyst reads no consent or participation evidence.
    let analyst = ask(&zone.analyst).await;
    for (t, f) in [
        ("Consent", "evidence"),
        ("Consent", "withdrawalReason"),
        ("Consent", "givenByName"),
        ("ParticipationAgreement", "evidence"),
        ("Relationship", "notes"),
        ("Referral", "needs"),
    ] {
        assert!(full.contains(&(t.to_owned(), f.to_owned())), "the admin sees {t}.{f}");
        assert!(!analyst.contains(&(t.to_owned(), f.to_owned())), "the analyst must not see {t}.{f}");
    }
}
