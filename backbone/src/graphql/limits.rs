//! Query-shape limits. Before anything parses the query: how deep values (lists and input
//! objects, in arguments, directives, variable definitions and defaults, and in the
//! variables) and selection sets are nested, by a scan of the raw text that does not
//! recurse — async-graphql's parser and validator recurse on nesting, and a value nested
//! a few thousand deep overflows a worker's stack and aborts the process. Right after
//! parsing, before anything runs: depth (counted on data fields, so that introspection —
//! GraphiQL's schema query is deeply nested, and is only enabled in demo mode — is not
//! refused) and aliases (which async-graphql does not limit). After validation:
//! complexity (counted by async-graphql from the schema's costs), refused with the cost,
//! the limit and what to lower. Body size, batching and timeouts in `http`.
//!
//! Also here: [`CatchPanics`], which answers a request whose execution panicked with
//! `INTERNAL` (HTTP and WebSocket alike) instead of losing the connection.

use crate::error::Error;
use crate::graphql::errors::{bad_request, to_gql};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Request, Response, ServerError, Value};
use async_graphql::{ServerResult, ValidationResult, Variables};
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// async-graphql's own limit on how deep selection sets (and fragment spreads) may
/// recurse, checked after parsing (`Schema::limit_recursive_depth`). The raw scan refuses
/// selection sets nested deeper than this before the parser sees them; such a document
/// would be refused after parsing anyway.
pub const RECURSION_LIMIT: usize = 32;

/// Refuses documents nested deeper than `max_depth` data fields, or with more than
/// `max_aliases` aliased fields (aliases multiply work without deepening the query, so
/// depth and complexity limits alone do not stop them), or with a value (literal,
/// default or variable) nested deeper than `max_value_depth` lists and input objects.
/// Fragments are expanded once, before anything else walks them, and a document whose
/// expansion holds more than `max_fields` fields is refused: async-graphql's recursion
/// check walks every spread of every fragment without remembering it, so a few fragments
/// each spreading the next twice would keep a worker busy for minutes.
///
/// Complexity too, once validation has counted it (async-graphql's own limit answers only
/// "Query is too complex."): a refusal says the query's cost, the limit, and what to lower
/// (`extensions.cost`, `limit`, `advice`).
pub struct ShapeLimits {
    pub max_depth: usize,
    pub max_aliases: usize,
    pub max_value_depth: usize,
    pub max_fields: usize,
    pub max_complexity: usize,
}

impl ExtensionFactory for ShapeLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ShapeLimitsExtension {
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
            max_value_depth: self.max_value_depth,
            max_fields: self.max_fields,
            max_complexity: self.max_complexity,
            outer_page: std::sync::Mutex::new(None),
        })
    }
}

/// One per request (the factory makes one for each).
struct ShapeLimitsExtension {
    max_depth: usize,
    max_aliases: usize,
    max_value_depth: usize,
    max_fields: usize,
    max_complexity: usize,
    /// The outermost list asked for with `first`, found when the query is parsed: the
    /// field it is on and how many it asks for.
    outer_page: std::sync::Mutex<Option<(String, usize)>>,
}

/// The outermost field (fewest levels down; the first such in the document) given a
/// `first` argument, with its value (a literal or a variable's).
fn outer_page(doc: &ExecutableDocument, variables: &Variables) -> Option<(String, usize)> {
    use async_graphql::Value as V;
    let mut level: Vec<&SelectionSet> = doc.operations.iter().map(|(_, op)| &op.node.selection_set.node).collect();
    let mut seen_fragments: Vec<&Name> = Vec::new();
    while !level.is_empty() {
        let mut next = Vec::new();
        for set in level {
            for item in &set.items {
                match &item.node {
                    Selection::Field(f) => {
                        let first = f.node.get_argument("first").map(|v| {
                            v.node
                                .clone()
                                .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
                                .unwrap_or(V::Null)
                        });
                        if let Some(V::Number(n)) = first
                            && let Some(n) = n.as_u64()
                        {
                            return Some((f.node.name.node.to_string(), usize::try_from(n).unwrap_or(usize::MAX)));
                        }
                        next.push(&f.node.selection_set.node);
                    }
                    Selection::InlineFragment(f) => next.push(&f.node.selection_set.node),
                    Selection::FragmentSpread(spread) => {
                        let name = &spread.node.fragment_name.node;
                        if let Some(frag) = doc.fragments.get(name)
                            && !seen_fragments.contains(&name)
                        {
                            seen_fragments.push(name);
                            next.push(&frag.node.selection_set.node);
                        }
                    }
                }
            }
        }
        level = next;
    }
    None
}

/// The refusal of a query costing more than `limit`, with what to lower.
fn too_costly(cost: usize, limit: usize, outer: Option<(String, usize)>) -> ServerError {
    let advice = match outer {
        Some((field, n)) if n > 1 => {
            let fits = (n.saturating_mul(limit) / cost.max(1)).max(1);
            format!(
                "ask for fewer at a time — `{field}(first: {fits})` or fewer instead of {n}, then the next page with \
                 `after` — or select fewer fields inside lists, or split the query in two"
            )
        }
        _ => "select fewer fields inside lists, ask for fewer items per list (`first`, 20 when not given), or \
              split the query in two"
            .to_owned(),
    };
    let mut e = bad_request(format!("the query would cost {cost}, more than the limit of {limit}: {advice}"));
    let ext = e.extensions.get_or_insert_with(Default::default);
    ext.set("cost", cost);
    ext.set("limit", limit);
    ext.set("advice", advice);
    e
}

/// Refuses `request` if its query text or its variables nest values deeper than
/// `max_value_depth`, or selection sets deeper than [`RECURSION_LIMIT`]. Linear in the
/// size of the request and recursing on nothing, so it is safe to run on anything a
/// client sends, before parsing. `http` runs it on every operation (to answer 400) and the
/// schema's [`ShapeLimits`] on every operation it is given (so WebSocket operations too).
pub fn check_nesting(request: &Request, max_value_depth: usize) -> Result<(), ServerError> {
    scan_query(&request.query, max_value_depth).and_then(|()| scan_variables(&request.variables, max_value_depth))
}

/// The raw scan of a query's text. Inside parentheses (arguments, directive arguments,
/// variable definitions with their types and defaults) every `[` and `{` is a value (or a
/// list type) one level deeper; outside them every `{` is a selection set. Strings, block
/// strings and comments are skipped as the GraphQL grammar reads them.
fn scan_query(query: &str, max_value_depth: usize) -> Result<(), ServerError> {
    let too_deep_value = || {
        bad_request(format!(
            "a list or input object in the query is nested more than {max_value_depth} deep; at most \
             {max_value_depth} levels are allowed"
        ))
    };
    let too_deep_selection = || {
        bad_request(format!(
            "the query's selections are nested more than {RECURSION_LIMIT} deep; at most {RECURSION_LIMIT} levels are allowed"
        ))
    };
    let b = query.as_bytes();
    // Each open bracket, and the value depth it opened (0 for `(` and selection sets).
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut selections = 0usize;
    let mut parens = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                i += 3;
                loop {
                    if i >= b.len() {
                        break;
                    }
                    if b[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if b[i..].starts_with(b"\"\"\"") {
                        i += 2;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' && b[i] != b'\r' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => {
                parens += 1;
                open.push((b'(', 0));
            }
            c @ (b'[' | b'{') if parens > 0 => {
                let depth = open.last().map_or(0, |(_, d)| *d) + 1;
                if depth > max_value_depth {
                    return Err(too_deep_value());
                }
                open.push((c, depth));
            }
            c @ (b'[' | b'{') => {
                selections += 1;
                // The operation's own braces are depth 0 for async-graphql.
                if selections > RECURSION_LIMIT + 1 {
                    return Err(too_deep_selection());
                }
                open.push((c, 0));
            }
            b')' | b']' | b'}' => match open.pop() {
                Some((b'(', _)) => parens -= 1,
                Some((_, 0)) => selections = selections.saturating_sub(1),
                _ => {}
            },
            _ => {}
        }
        // Parentheses inside parentheses are a syntax error, but count them all the same.
        if open.len() > RECURSION_LIMIT + 1 + max_value_depth + 1 {
            return Err(too_deep_value());
        }
        i += 1;
    }
    Ok(())
}

/// How deep each variable's value nests lists and objects (`[[1]]` is 2 deep, a scalar 0).
fn scan_variables(variables: &Variables, max_value_depth: usize) -> Result<(), ServerError> {
    for (name, value) in variables.iter() {
        let mut pending: Vec<(&Value, usize)> = vec![(value, 0)];
        while let Some((value, depth)) = pending.pop() {
            let children: Box<dyn Iterator<Item = &Value>> = match value {
                Value::List(items) => Box::new(items.iter()),
                Value::Object(fields) => Box::new(fields.values()),
                _ => continue,
            };
            if depth + 1 > max_value_depth {
                return Err(bad_request(format!(
                    "the variable `${name}` is nested more than {max_value_depth} deep; at most {max_value_depth} \
                     levels are allowed"
                )));
            }
            pending.extend(children.map(|v| (v, depth + 1)));
        }
    }
    Ok(())
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

/// Why an expansion was cut short.
#[derive(Debug, PartialEq)]
enum Expansion {
    TooDeep,
    TooLarge,
}

/// Fields and nesting of a fragment, once expanded.
#[derive(Clone, Copy)]
struct Expanded {
    fields: usize,
    /// Levels below the set, counted as async-graphql's recursion check counts them (a
    /// field with a selection set, a spread, an inline fragment: one each).
    height: usize,
}

/// Expands `set` reached at `depth`: each fragment once (remembered in `done`), a cycle
/// as nothing (validation refuses it later); stops as soon as the nesting passes
/// [`RECURSION_LIMIT`] or the fields pass `max_fields`, so it recurses at most
/// `RECURSION_LIMIT` levels and works in time linear in the document.
fn expand<'a>(
    set: &'a SelectionSet,
    depth: usize,
    fragments: &'a Fragments,
    done: &mut HashMap<&'a Name, Expanded>,
    visiting: &mut Vec<&'a Name>,
    max_fields: usize,
) -> Result<Expanded, Expansion> {
    if depth > RECURSION_LIMIT {
        return Err(Expansion::TooDeep);
    }
    let mut out = Expanded { fields: 0, height: 0 };
    // Adds what one item brings: `fields`, and `height` levels below `set`.
    let add = |out: &mut Expanded, fields: usize, height: usize| -> Result<(), Expansion> {
        out.fields = out.fields.saturating_add(fields);
        out.height = out.height.max(height);
        if depth + out.height > RECURSION_LIMIT {
            Err(Expansion::TooDeep)
        } else if out.fields > max_fields {
            Err(Expansion::TooLarge)
        } else {
            Ok(())
        }
    };
    for item in &set.items {
        match &item.node {
            Selection::Field(f) if f.node.selection_set.node.items.is_empty() => add(&mut out, 1, 0)?,
            Selection::Field(f) => {
                let inner = expand(&f.node.selection_set.node, depth + 1, fragments, done, visiting, max_fields)?;
                add(&mut out, inner.fields.saturating_add(1), inner.height + 1)?;
            }
            Selection::InlineFragment(f) => {
                let inner = expand(&f.node.selection_set.node, depth + 1, fragments, done, visiting, max_fields)?;
                add(&mut out, inner.fields, inner.height + 1)?;
            }
            Selection::FragmentSpread(s) => {
                let name = &s.node.fragment_name.node;
                let inner = match (done.get(name), fragments.get(name)) {
                    (Some(known), _) => *known,
                    // A cycle (refused by validation) or an unknown fragment (named by it).
                    (None, Some(_)) if visiting.contains(&name) => Expanded { fields: 0, height: 0 },
                    (None, None) => Expanded { fields: 0, height: 0 },
                    (None, Some(frag)) => {
                        visiting.push(name);
                        let found =
                            expand(&frag.node.selection_set.node, depth + 1, fragments, done, visiting, max_fields);
                        visiting.pop();
                        let found = found?;
                        done.insert(name, found);
                        found
                    }
                };
                add(&mut out, inner.fields, inner.height + 1)?;
            }
        }
    }
    Ok(out)
}

/// Refuses a document whose operations, fragments expanded, nest deeper than
/// [`RECURSION_LIMIT`] or hold more than `max_fields` fields.
fn check_expansion(doc: &ExecutableDocument, max_fields: usize) -> Result<(), ServerError> {
    let mut done = HashMap::new();
    for (_, op) in doc.operations.iter() {
        match expand(&op.node.selection_set.node, 0, &doc.fragments, &mut done, &mut Vec::new(), max_fields) {
            Ok(_) => {}
            Err(Expansion::TooDeep) => {
                return Err(bad_request(format!(
                    "the query's selections, fragments expanded, are nested more than {RECURSION_LIMIT} deep; at \
                     most {RECURSION_LIMIT} levels are allowed"
                )));
            }
            Err(Expansion::TooLarge) => {
                return Err(bad_request(format!(
                    "the query's fragments expand to more than {max_fields} fields; at most {max_fields} are allowed"
                )));
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Extension for ShapeLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let mut request = request;
        check_nesting(&request, self.max_value_depth)?;
        // Shallow enough to parse now; parsed once, here, for the schema too.
        check_expansion(request.parsed_query()?, self.max_fields)?;
        next.run(ctx, request).await
    }

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
        *self.outer_page.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = outer_page(&doc, variables);
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > self.max_complexity {
            let outer = self.outer_page.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            return Err(vec![too_costly(result.complexity, self.max_complexity, outer)]);
        }
        Ok(result)
    }
}

/// Answers a request whose handling panicked (parsing, validation, a resolver, a
/// subscription's stream) with `INTERNAL` — the request id is added by
/// `errors::finish` — instead of losing the connection, and lets the process serve on.
/// Registered first, so it wraps every other extension. The panic itself is reported by
/// the panic hook (on stderr) and logged here as an internal error, without its message
/// (which could hold data).
pub struct CatchPanics;

impl ExtensionFactory for CatchPanics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CatchPanics)
    }
}

fn panicked() -> ServerError {
    to_gql(&Error::Internal(anyhow::anyhow!("a request panicked"))).into_server_error(Default::default())
}

#[async_trait::async_trait]
impl Extension for CatchPanics {
    /// The whole of a query or mutation from `Schema::execute` (HTTP).
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        AssertUnwindSafe(next.run(ctx)).catch_unwind().await.unwrap_or_else(|_| Response::from_errors(vec![panicked()]))
    }

    /// Every operation over WebSocket (each is a stream, from preparing the request to its
    /// last event): the panic becomes the stream's last item.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        AssertUnwindSafe(next.run(ctx, stream))
            .catch_unwind()
            .map(|item| item.unwrap_or_else(|_| Response::from_errors(vec![panicked()])))
            .boxed()
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

#[cfg(test)]
mod nesting_tests {
    use super::*;

    fn nested(open: &str, close: &str, n: usize) -> String {
        format!("{}1{}", open.repeat(n), close.repeat(n))
    }

    fn refused(query: &str) -> bool {
        scan_query(query, 16).is_err()
    }

    #[test]
    fn lists_objects_defaults_and_directive_arguments_are_limited_at_the_configured_depth() {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let at = nested(open, close, 16);
            let over = nested(open, close, 17);
            assert!(!refused(&format!("{{ child(id: {at}) {{ id }} }}")), "{at}");
            assert!(refused(&format!("{{ child(id: {over}) {{ id }} }}")), "{over}");
            assert!(refused(&format!("query($v: Int = {over}) {{ me {{ id }} }}")));
            assert!(refused(&format!("{{ me @include(if: {over}) {{ id }} }}")));
            assert!(refused(&format!("{{ me {{ ...F }} }} fragment F on User @skip(if: {over}) {{ id }}")));
        }
        // A list type nested past the limit, too (the parser recurses on types as well).
        assert!(refused(&format!("query($v: {}Int{}) {{ me {{ id }} }}", "[".repeat(17), "]".repeat(17))));
        // Thousands deep, as in the reported attack: refused, without recursion.
        assert!(refused(&format!("{{ child(id: {}) {{ id }} }}", nested("[", "]", 2000))));
        assert!(refused(&format!("{{ child(id: {}) {{ id }} }}", "[".repeat(100_000))));
    }

    #[test]
    fn brackets_in_strings_block_strings_and_comments_do_not_count() {
        let deep = "[".repeat(100);
        assert!(!refused(&format!("{{ child(id: \"{deep}\") {{ id }} }}")));
        assert!(!refused(&format!("{{ child(id: \"\\\"{deep}\") {{ id }} }}")), "an escaped quote does not end it");
        assert!(!refused(&format!("{{ child(id: \"\"\"{deep} \\\"\"\" {deep}\"\"\") {{ id }} }}")));
        assert!(!refused(&format!("{{ child(id: 1 # {deep}\n) {{ id }} }}")));
        // …but a string ends where the grammar ends it: at its quote, or a line break.
        assert!(refused(&format!("{{ child(id: \"x\" {deep}) {{ id }} }}")));
        assert!(refused(&format!("{{ child(id: \"x\n{deep}) {{ id }} }}")));
        assert!(refused(&format!("{{ child(id: 1 # comment\r{deep}) {{ id }} }}")));
    }

    #[test]
    fn selection_sets_are_limited_only_at_the_recursion_limit() {
        let sets = |n: usize| format!("{}id{}", "{ a ".repeat(n), " }".repeat(n));
        // The operation's braces and 32 nested selection sets, as async-graphql allows.
        assert!(!refused(&sets(RECURSION_LIMIT + 1)));
        assert!(refused(&sets(RECURSION_LIMIT + 2)));
        assert!(refused(&sets(5000)));
        // GraphiQL's introspection query nests about ten deep: allowed.
        let type_ref = format!("{}kind{}", "ofType { kind ".repeat(9), " }".repeat(9));
        assert!(!refused(&format!("{{ __schema {{ types {{ fields {{ type {{ {type_ref} }} }} }} }} }}")));
    }

    #[test]
    fn variables_are_limited_at_the_configured_depth() {
        let value = |n: usize| {
            let mut v = serde_json::json!(1);
            for i in 0..n {
                v = if i % 2 == 0 { serde_json::json!([v]) } else { serde_json::json!({ "a": v }) };
            }
            Variables::from_json(serde_json::json!({ "v": v, "flat": [1, 2, 3] }))
        };
        assert!(scan_variables(&value(16), 16).is_ok());
        let err = scan_variables(&value(17), 16).expect_err("too deep");
        assert!(err.message.contains("$v"), "{}", err.message);
        assert!(scan_variables(&value(120), 16).is_err());
        let request = Request::new("{ me { id } }").variables(value(17));
        assert!(check_nesting(&request, 16).is_err());
        assert!(check_nesting(&Request::new("{ me { id } }").variables(value(3)), 16).is_ok());
    }

    mod panics {
        use super::super::CatchPanics;
        use async_graphql::{EmptyMutation, Object, Schema, Subscription};
        use futures_util::{Stream, StreamExt};

        struct Query;
        #[Object]
        impl Query {
            async fn fine(&self) -> i32 {
                1
            }
            async fn broken(&self) -> i32 {
                i32::try_from(u64::MAX).expect("a resolver bug")
            }
        }
        struct Sub;
        #[Subscription]
        impl Sub {
            async fn ticks(&self) -> impl Stream<Item = i32> {
                futures_util::stream::iter([1, 2]).map(|n| if n == 2 { panic!("a stream bug") } else { n })
            }
        }

        fn schema() -> Schema<Query, EmptyMutation, Sub> {
            Schema::build(Query, EmptyMutation, Sub).extension(CatchPanics).finish()
        }

        fn code(response: &async_graphql::Response) -> Option<String> {
            let ext = response.errors.first()?.extensions.as_ref()?;
            match ext.get("code")? {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            }
        }

        #[tokio::test]
        async fn a_panicking_resolver_answers_internal_and_the_schema_serves_on() {
            let schema = schema();
            let broken = schema.execute("{ broken }").await;
            assert_eq!(code(&broken).as_deref(), Some("INTERNAL"), "{broken:?}");
            let fine = schema.execute("{ fine }").await;
            assert!(fine.errors.is_empty(), "{fine:?}");
            // An operation over WebSocket is a stream: the same, as its one answer.
            let over_ws: Vec<_> = schema.execute_stream("{ broken }").collect().await;
            assert_eq!(over_ws.len(), 1);
            assert_eq!(code(&over_ws[0]).as_deref(), Some("INTERNAL"));
        }

        #[tokio::test]
        async fn a_panicking_subscription_ends_with_internal() {
            let events: Vec<_> = schema().execute_stream("subscription { ticks }").collect().await;
            assert_eq!(events.len(), 2, "{events:?}");
            assert!(events[0].errors.is_empty());
            assert_eq!(code(&events[1]).as_deref(), Some("INTERNAL"), "{events:?}");
        }

        #[tokio::test]
        async fn without_the_extension_the_panic_escapes() {
            // The control: what the extension is for.
            let bare = Schema::build(Query, EmptyMutation, Sub).finish();
            let caught =
                futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(bare.execute("{ broken }")));
            assert!(caught.await.is_err());
        }
    }
}

#[cfg(test)]
mod expansion_tests {
    use super::*;

    fn check(query: &str) -> Result<(), ServerError> {
        check_expansion(&async_graphql::parser::parse_query(query).expect("parses"), 1000)
    }

    /// `F0` spreads `F1` twice, `F1` spreads `F2` twice, …: 2^n fields once expanded.
    fn doubling(n: usize) -> String {
        let mut q = "{ ...F0 }".to_owned();
        for i in 0..n {
            q.push_str(&format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1));
        }
        q.push_str(&format!(" fragment F{n} on Query {{ me {{ id }} }}"));
        q
    }

    #[test]
    fn fragments_that_multiply_are_refused_at_once() {
        // 2^8 × 2 = 512 fields: allowed; 2^9 × 2 = 1024: refused.
        assert!(check(&doubling(8)).is_ok());
        let started = std::time::Instant::now();
        let err = check(&doubling(30)).expect_err("2^31 fields");
        assert!(err.message.contains("expand to more than 1000 fields"), "{}", err.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn nesting_through_fragments_is_counted_as_the_recursion_check_counts_it() {
        // A chain of 31 fragments under the operation: 32 levels, allowed; 33 refused.
        let chain = |n: usize| {
            let mut q = "{ ...F0 }".to_owned();
            for i in 0..n {
                q.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
            }
            q.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
            q
        };
        assert!(check(&chain(31)).is_ok());
        let err = check(&chain(32)).expect_err("33 levels");
        assert!(err.message.contains("nested more than 32"), "{}", err.message);
        // A chain of thousands is refused without recursing thousands deep.
        assert!(check(&chain(3000)).is_err());
        // A cycle is left to validation, which names it.
        assert!(check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }").is_ok());
    }
}
