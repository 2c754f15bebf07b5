//! Query-shape limits checked right after parsing, before anything runs: depth (counted
//! on data fields, so that introspection — GraphiQL's schema query is deeply nested, and
//! is only enabled in demo mode — is not refused) and aliases (which async-graphql does
//! not limit). Complexity is limited by the schema; body size, batching and timeouts in
//! `http`.

use crate::graphql::errors::bad_request;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned};
use async_graphql::{ServerResult, Variables};
use std::collections::HashMap;
use std::sync::Arc;

/// Refuses documents nested deeper than `max_depth` data fields, or with more than
/// `max_aliases` aliased fields (aliases multiply work without deepening the query, so
/// depth and complexity limits alone do not stop them).
pub struct ShapeLimits {
    pub max_depth: usize,
    pub max_aliases: usize,
}

impl ExtensionFactory for ShapeLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ShapeLimitsExtension { max_depth: self.max_depth, max_aliases: self.max_aliases })
    }
}

struct ShapeLimitsExtension {
    max_depth: usize,
    max_aliases: usize,
}

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

/// Depth of data fields below `set`: introspection fields (`__schema`, `__type`) count
/// as nothing; fragments are followed (each at most once on a path, so cycles end).
fn depth(set: &SelectionSet, fragments: &Fragments, path: &mut Vec<Name>) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) if f.node.name.node.starts_with("__") => 0,
            Selection::Field(f) => 1 + depth(&f.node.selection_set.node, fragments, path),
            Selection::InlineFragment(f) => depth(&f.node.selection_set.node, fragments, path),
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                match fragments.get(name) {
                    Some(frag) if !path.contains(name) => {
                        path.push(name.clone());
                        let d = depth(&frag.node.selection_set.node, fragments, path);
                        path.pop();
                        d
                    }
                    _ => 0,
                }
            }
        })
        .max()
        .unwrap_or(0)
}

/// The deepest operation of the document.
pub fn depth_of(doc: &ExecutableDocument) -> usize {
    doc.operations
        .iter()
        .map(|(_, op)| depth(&op.node.selection_set.node, &doc.fragments, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

fn count_aliases(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => usize::from(f.node.alias.is_some()) + count_aliases(&f.node.selection_set.node),
            Selection::InlineFragment(f) => count_aliases(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// Aliases in the whole document: every operation and every fragment.
pub fn aliases_in(doc: &ExecutableDocument) -> usize {
    let ops: usize = doc.operations.iter().map(|(_, op)| count_aliases(&op.node.selection_set.node)).sum();
    let frags: usize = doc.fragments.values().map(|f| count_aliases(&f.node.selection_set.node)).sum();
    ops + frags
}

#[async_trait::async_trait]
impl Extension for ShapeLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let d = depth_of(&doc);
        if d > self.max_depth {
            return Err(bad_request(format!("the query is nested {d} deep; at most {} is allowed", self.max_depth)));
        }
        let n = aliases_in(&doc);
        if n > self.max_aliases {
            return Err(bad_request(format!("the query uses {n} aliases; at most {} are allowed", self.max_aliases)));
        }
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "{ a: me { id } b: me { x: id } ...F } fragment F on Query { c: me { id } }",
        )
        .expect("parses");
        assert_eq!(aliases_in(&doc), 4);
    }

    #[test]
    fn depth_counts_data_fields_through_fragments_but_not_introspection() {
        let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
        assert_eq!(depth_of(&parse("{ me { organisation { name } } }")), 3);
        assert_eq!(
            depth_of(&parse("{ me { ...F } } fragment F on User { organisation { ... on Organisation { id } } }")),
            3
        );
        assert_eq!(depth_of(&parse("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }")), 0);
        // A fragment cycle (invalid, refused later by validation) does not loop here.
        assert_eq!(depth_of(&parse("{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }")), 1);
    }
}
