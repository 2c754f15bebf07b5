//! Request limits async-graphql does not have built in: a cap on aliases per operation
//! (depth and complexity limits are set on the schema; body size, batching and timeouts
//! are enforced in `http`).

use crate::graphql::errors::bad_request;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerResult, Variables};
use std::sync::Arc;

/// Refuses documents with more than `max` aliased fields (aliases multiply work without
/// deepening the query, so depth and complexity limits alone do not stop them).
pub struct AliasLimit {
    pub max: usize,
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension { max: self.max })
    }
}

struct AliasLimitExtension {
    max: usize,
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
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let n = aliases_in(&doc);
        if n > self.max {
            return Err(bad_request(format!("the query uses {n} aliases; at most {} are allowed", self.max)));
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
}
