//! The fuzzer: generates GraphQL documents from the committed SDL (`schema/schema.graphql`)
//! — valid ones, and ones mutated as an attacker would (values nested deep, numbers out of
//! range, odd Unicode, wrong types, missing arguments, unknown fields, aliases, fragments,
//! long strings, broken syntax) — and sends them to a running service over HTTP, with and
//! without a token of each role. A finding is any 5xx, any error coded `INTERNAL`, or a
//! lost connection (a panic is caught by the service and answered `INTERNAL`; `scripts/fuzz`
//! also reads the service's log for panics).
//!
//! Deterministic from a seed: the same seed gives the same documents, except for the ids
//! filled in, which are picked from those the service has returned so far. Used by the
//! suite (`suite::fuzz`, a quick run against the fixture zone) and by the `fuzz` binary
//! (`scripts/fuzz`, against the release build in demo mode).

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The committed SDL, as the fuzzer's source of documents.
pub const SDL: &str = include_str!("../../schema/schema.graphql");

/// xorshift64*: small, fast, and the same on every machine.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.below(items.len())) }
    }
}

/// A field or an argument: its name, and its type.
#[derive(Clone, Debug)]
struct Slot {
    name: String,
    ty: Type,
    args: Vec<Slot>,
}

#[derive(Clone, Debug)]
enum Kind {
    Object(Vec<Slot>),
    Union(Vec<String>),
    Enum(Vec<String>),
    Input(Vec<Slot>),
    Scalar,
}

/// The schema, as the generator needs it.
pub struct Schema {
    types: HashMap<String, Kind>,
}

impl Schema {
    /// Reads an SDL (the committed one: [`SDL`]).
    pub fn parse(sdl: &str) -> anyhow::Result<Schema> {
        let doc = async_graphql::parser::parse_schema(sdl)?;
        let slot = |name: &str, ty: &Type, args: Vec<Slot>| Slot { name: name.to_owned(), ty: ty.clone(), args };
        let mut types = HashMap::new();
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else { continue };
            let t = t.node;
            let kind = match t.kind {
                TypeKind::Object(o) => Kind::Object(
                    o.fields
                        .iter()
                        .map(|f| {
                            let args =
                                f.node.arguments.iter().map(|a| slot(&a.node.name.node, &a.node.ty.node, vec![]));
                            slot(&f.node.name.node, &f.node.ty.node, args.collect())
                        })
                        .collect(),
                ),
                TypeKind::Interface(o) => {
                    Kind::Object(o.fields.iter().map(|f| slot(&f.node.name.node, &f.node.ty.node, vec![])).collect())
                }
                TypeKind::Union(u) => Kind::Union(u.members.iter().map(|m| m.node.to_string()).collect()),
                TypeKind::Enum(e) => Kind::Enum(e.values.iter().map(|v| v.node.value.node.to_string()).collect()),
                TypeKind::InputObject(i) => {
                    Kind::Input(i.fields.iter().map(|f| slot(&f.node.name.node, &f.node.ty.node, vec![])).collect())
                }
                TypeKind::Scalar => Kind::Scalar,
            };
            types.insert(t.name.node.to_string(), kind);
        }
        anyhow::ensure!(types.contains_key("Query"), "the SDL has no Query type");
        Ok(Schema { types })
    }
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// `[[Int]]`, `depth` lists deep.
fn list_type(depth: usize) -> String {
    format!("{}Int{}", "[".repeat(depth), "]".repeat(depth))
}

/// Values that are wrong on purpose: out of range, odd Unicode, the wrong type.
const HOSTILE: &[&str] = &[
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "99999999999999999999999999999999",
    "1e400",
    "-1e400",
    "1.7976931348623157e309",
    "0.0000000000000000000000000001",
    "-0",
    "\"\\u202eevil\"",
    "\"\\u200b\\u200c\\u200d\"",
    "\"\\uD800\"",
    "\"\\uDFFF\\uD800\"",
    "\"\\u0000\"",
    "\"a\\u0000b\"",
    "\"\\uFEFF\"",
    "\"Z\\u0351\\u0352\\u0353\\u0354\"",
    "\"😀👩‍👩‍👧\"",
    "\"\"",
    "\"   \"",
    "\"2016-02-30\"",
    "\"2016-4-12\"",
    "\"0000-00-00\"",
    "\"9999-12-31T23:59:60Z\"",
    "\"../../etc/passwd\"",
    "\"'; DROP TABLE children; --\"",
    "\"=cmd|' /C calc'!A0\"",
    "true",
    "null",
    "[]",
    "{}",
    "NOT_AN_ENUM",
    "$undeclared",
];

/// Strings a valid document might carry.
const STRINGS: &[&str] =
    &["Ada", "Smith", "a note", "demo", "x@y.z", "linkworker@demo.zone", "ZZ1 1ZZ", "2016-05-04", "2025-26", "Année"];

/// One generated document and its variables.
pub struct Document {
    pub query: String,
    pub variables: Value,
}

/// Generates documents from the schema.
pub struct Generator {
    schema: Schema,
    rng: Rng,
    /// How deep values may nest before the service refuses them (to try both sides).
    pub max_value_depth: usize,
    /// Ids seen in answers, to fill `ID` arguments with real records.
    ids: Vec<String>,
    /// Whether the document being built is to be mutated.
    hostile: bool,
    fragments: Vec<String>,
    fragment_count: usize,
}

impl Generator {
    pub fn new(schema: Schema, seed: u64) -> Generator {
        Generator {
            schema,
            rng: Rng::new(seed),
            max_value_depth: 16,
            ids: Vec::new(),
            hostile: false,
            fragments: Vec::new(),
            fragment_count: 0,
        }
    }

    /// Remembers ids found anywhere in `answer` (at most a few hundred).
    pub fn learn_ids(&mut self, answer: &Value) {
        let mut pending = vec![answer];
        while let Some(v) = pending.pop() {
            match v {
                Value::String(s) if s.len() == 36 && s.matches('-').count() == 4 && !self.ids.contains(s) => {
                    if self.ids.len() >= 300 {
                        let i = self.rng.below(self.ids.len());
                        self.ids[i] = s.clone();
                    } else {
                        self.ids.push(s.clone());
                    }
                }
                Value::Array(items) => pending.extend(items),
                Value::Object(fields) => pending.extend(fields.values()),
                _ => {}
            }
        }
    }

    /// The next document: about a third valid, the rest mutated.
    pub fn document(&mut self) -> Document {
        self.hostile = self.rng.chance(65);
        self.fragments.clear();
        let root = if self.rng.chance(60) { "Query" } else { "Mutation" };
        let mut body = String::new();
        let mut variables = json!({});
        let mut definitions = Vec::new();
        // Sometimes a variable, deep or wrong, declared for nothing but its default or value.
        if self.hostile && self.rng.chance(15) {
            let depth = self.depth();
            let default = self.nest(depth);
            let list = list_type(self.rng.below(depth.min(40)) + 1);
            definitions.push(format!("$d: {list} = {default}"));
        }
        if self.hostile && self.rng.chance(10) {
            let depth = self.depth().min(120);
            let mut v = json!(1);
            for i in 0..depth {
                v = if i % 2 == 0 { json!([v]) } else { json!({ "a": v }) };
            }
            variables["v"] = v;
            definitions.push("$v: Int".to_owned());
        }
        let fields = 1 + self.rng.below(3);
        for _ in 0..fields {
            let sel = self.root_field(root);
            body.push_str(&sel);
            body.push(' ');
        }
        let head = match (root, definitions.is_empty()) {
            ("Query", true) if self.rng.chance(50) => String::new(),
            (_, true) => root.to_lowercase(),
            (_, false) => format!("{}({})", root.to_lowercase(), definitions.join(", ")),
        };
        let mut query = format!("{head} {{ {body}}}");
        for f in &self.fragments {
            query.push(' ');
            query.push_str(f);
        }
        if self.hostile && self.rng.chance(12) {
            query = self.break_text(query);
        }
        Document { query, variables }
    }

    /// A nesting depth to try: at the limit, just past it, or far past it.
    fn depth(&mut self) -> usize {
        let limit = self.max_value_depth;
        *self.rng.pick(&[limit, limit + 1, 40, 500, 2_000, 3_000]).unwrap_or(&limit)
    }

    fn nest(&mut self, depth: usize) -> String {
        let mut out = String::with_capacity(depth * 6);
        let lists = self.rng.chance(50);
        for _ in 0..depth {
            out.push_str(if lists { "[" } else { "{a: " });
        }
        out.push('1');
        for _ in 0..depth {
            out.push(if lists { ']' } else { '}' });
        }
        out
    }

    /// Damages the text: cut short, a slice repeated, a stray character.
    fn break_text(&mut self, mut query: String) -> String {
        let cut = |q: &str, at: usize| q.char_indices().map(|(i, _)| i).find(|i| *i >= at).unwrap_or(q.len());
        match self.rng.below(4) {
            0 => {
                let at = cut(&query, self.rng.below(query.len()));
                query.truncate(at);
            }
            1 => {
                let a = cut(&query, self.rng.below(query.len()));
                let b = cut(&query, a + self.rng.below(40));
                let slice = query[a..b].to_owned();
                for _ in 0..1 + self.rng.below(50) {
                    query.insert_str(b, &slice);
                }
            }
            2 => {
                let at = cut(&query, self.rng.below(query.len()));
                let stray = *self
                    .rng
                    .pick(&["\"", "\"\"\"", "#", "{", "}", "(", "[", "$", "@", "...", "\u{0}", "\u{202e}"])
                    .unwrap_or(&"{");
                query.insert_str(at, stray);
            }
            _ => query.push_str(&"}".repeat(1 + self.rng.below(5))),
        }
        query
    }

    fn root_field(&mut self, root: &str) -> String {
        let Some(Kind::Object(fields)) = self.schema.types.get(root).cloned() else { return "__typename".into() };
        let Some(field) = self.rng.pick(&fields).cloned() else { return "__typename".into() };
        self.field(&field, 0)
    }

    /// One field with its arguments and, for an object, a selection.
    fn field(&mut self, field: &Slot, depth: usize) -> String {
        let mut out = String::new();
        if self.rng.chance(12) {
            let _ = write!(out, "a{}: ", self.rng.below(1_000));
        }
        out.push_str(&field.name);
        let args = self.arguments(&field.args);
        if !args.is_empty() {
            let _ = write!(out, "({args})");
        }
        if self.hostile && self.rng.chance(3) {
            let _ = write!(out, " @include(if: {})", self.value_of("Boolean", depth));
        }
        let inner = named(&field.ty).to_owned();
        if let Some(sel) = self.selection(&inner, depth + 1) {
            let _ = write!(out, " {{ {sel} }}");
        }
        out
    }

    fn arguments(&mut self, args: &[Slot]) -> String {
        let mut parts = Vec::new();
        for arg in args {
            let required = !arg.ty.nullable;
            if self.hostile && required && self.rng.chance(8) {
                continue; // a missing argument
            }
            if required || self.rng.chance(50) {
                let v = self.value(&arg.ty, 0);
                parts.push(format!("{}: {v}", arg.name));
            }
        }
        if self.hostile && self.rng.chance(5) {
            parts.push("nope: 1".into());
        }
        parts.join(", ")
    }

    /// A selection set for `type_name`, or `None` for a scalar or enum.
    fn selection(&mut self, type_name: &str, depth: usize) -> Option<String> {
        match self.schema.types.get(type_name).cloned()? {
            Kind::Object(fields) => {
                let leaves: Vec<&Slot> = fields.iter().filter(|f| self.is_leaf(&f.ty)).collect();
                let mut parts = Vec::new();
                for _ in 0..1 + self.rng.below(4) {
                    let Some(f) = self.rng.pick(&fields) else { break };
                    if !self.is_leaf(&f.ty) && depth >= 4 {
                        continue;
                    }
                    parts.push(self.field(f, depth));
                }
                if parts.is_empty() {
                    parts.push(match self.rng.pick(&leaves) {
                        Some(f) => f.name.clone(),
                        None => "__typename".into(),
                    });
                }
                if self.hostile && self.rng.chance(5) {
                    parts.push("nopeField".into());
                }
                let mut sel = parts.join(" ");
                if self.rng.chance(8) {
                    self.fragment_count += 1;
                    let name = format!("F{}", self.fragment_count);
                    self.fragments.push(format!("fragment {name} on {type_name} {{ {sel} }}"));
                    sel = format!("...{name}");
                } else if self.rng.chance(5) {
                    sel = format!("... on {type_name} {{ {sel} }}");
                }
                Some(sel)
            }
            Kind::Union(members) => {
                let mut sel = "__typename".to_owned();
                for m in members.iter().take(3) {
                    if let Some(inner) = self.selection(m, depth + 1) {
                        let _ = write!(sel, " ... on {m} {{ {inner} }}");
                    }
                }
                Some(sel)
            }
            _ => None,
        }
    }

    fn is_leaf(&self, ty: &Type) -> bool {
        matches!(self.schema.types.get(named(ty)), Some(Kind::Scalar | Kind::Enum(_)) | None)
    }

    /// A literal for `ty`: usually fitting, sometimes (in a hostile document) not.
    fn value(&mut self, ty: &Type, depth: usize) -> String {
        if self.hostile && self.rng.chance(10) {
            return self.hostile_value();
        }
        if ty.nullable && self.rng.chance(10) {
            return "null".into();
        }
        match &ty.base {
            BaseType::List(inner) => {
                let n = self.rng.below(3);
                let items: Vec<String> = (0..n).map(|_| self.value(inner, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            BaseType::Named(name) => self.value_of(name.as_str(), depth),
        }
    }

    fn hostile_value(&mut self) -> String {
        match self.rng.below(4) {
            0 => {
                let d = self.depth();
                self.nest(d)
            }
            1 => {
                let n = *self.rng.pick(&[300usize, 5_000, 40_000]).unwrap_or(&300);
                let c = *self.rng.pick(&["a", "é", "\\u202e", "\\u0000", "😀"]).unwrap_or(&"a");
                format!("\"{}\"", c.repeat(n))
            }
            _ => (*self.rng.pick(HOSTILE).unwrap_or(&"null")).to_owned(),
        }
    }

    fn value_of(&mut self, name: &str, depth: usize) -> String {
        match name {
            "Int" => (*self.rng.pick(&["0", "1", "5", "6", "20", "100", "-1", "2025"]).unwrap_or(&"1")).to_owned(),
            "Float" => (*self.rng.pick(&["0.5", "1.0", "-3.25", "100"]).unwrap_or(&"1.0")).to_owned(),
            "Boolean" => (if self.rng.chance(50) { "true" } else { "false" }).to_owned(),
            "ID" => match self.rng.pick(&self.ids).cloned() {
                Some(id) if self.rng.chance(85) => format!("\"{id}\""),
                _ => {
                    format!("\"{:08x}-0000-7000-8000-{:012x}\"", self.rng.next_u64() as u32, self.rng.next_u64() >> 16)
                }
            },
            "NaiveDate" => {
                (*self.rng.pick(&["\"2016-05-04\"", "\"2025-09-10\"", "\"2026-01-15\""]).unwrap_or(&"\"2016-05-04\""))
                    .to_owned()
            }
            "DateTime" => "\"2026-01-15T10:00:00Z\"".into(),
            "String" => format!("\"{}\"", self.rng.pick(STRINGS).unwrap_or(&"x")),
            other => match self.schema.types.get(other).cloned() {
                Some(Kind::Enum(values)) => self.rng.pick(&values).cloned().unwrap_or_else(|| "null".into()),
                Some(Kind::Input(fields)) if depth < 6 => {
                    let mut parts = Vec::new();
                    for f in &fields {
                        if !f.ty.nullable || self.rng.chance(40) {
                            let v = self.value(&f.ty, depth + 1);
                            parts.push(format!("{}: {v}", f.name));
                        }
                    }
                    format!("{{{}}}", parts.join(", "))
                }
                _ => "null".into(),
            },
        }
    }
}

/// A caller the fuzzer speaks as: an account (logged in again if a document logs it out)
/// or, with no email, anonymous.
#[derive(Clone)]
pub struct Caller {
    pub email: Option<String>,
    pub password: String,
    pub token: Option<String>,
}

impl Caller {
    pub fn anonymous() -> Caller {
        Caller { email: None, password: String::new(), token: None }
    }

    pub fn account(email: &str, password: &str) -> Caller {
        Caller { email: Some(email.to_owned()), password: password.to_owned(), token: None }
    }
}

/// What a run found.
#[derive(Default, Debug)]
pub struct Report {
    pub seed: u64,
    pub sent: usize,
    /// Answers by HTTP status.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Errors by `extensions.code`.
    pub codes: std::collections::BTreeMap<String, usize>,
    /// Each finding: what went wrong, and the document (its first 2,000 characters).
    pub findings: Vec<String>,
}

impl Report {
    pub fn summary(&self) -> String {
        format!(
            "seed {}: {} documents, {} findings; statuses {:?}; codes {:?}",
            self.seed,
            self.sent,
            self.findings.len(),
            self.statuses,
            self.codes
        )
    }
}

/// Logs `caller` in (when it is an account); false if the login was refused.
pub async fn login(http: &reqwest::Client, base: &str, caller: &mut Caller) -> bool {
    let Some(email) = &caller.email else { return true };
    let body = json!({
        "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
        "variables": { "e": email, "p": caller.password },
    });
    let answer = match http.post(format!("{base}/graphql")).json(&body).send().await {
        Ok(r) => r.json::<Value>().await.unwrap_or_default(),
        Err(_) => return false,
    };
    caller.token = answer["data"]["login"]["token"].as_str().map(str::to_owned);
    caller.token.is_some()
}

/// Sends `count` documents from `seed` to the service at `base` (`http://127.0.0.1:PORT`),
/// as the callers in turn; `progress` is called every 1,000 documents.
pub async fn run(
    base: &str,
    seed: u64,
    count: usize,
    mut callers: Vec<Caller>,
    known_ids: &[String],
    progress: impl Fn(&Report),
) -> Report {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap_or_default();
    let schema = match Schema::parse(SDL) {
        Ok(s) => s,
        Err(e) => return Report { seed, findings: vec![format!("the SDL does not parse: {e}")], ..Report::default() },
    };
    let mut generator = Generator::new(schema, seed);
    for id in known_ids {
        generator.learn_ids(&json!(id));
    }
    for caller in &mut callers {
        login(&http, base, caller).await;
    }
    callers.push(Caller::anonymous());
    let mut report = Report { seed, ..Report::default() };
    for n in 0..count {
        let doc = generator.document();
        let who = n % callers.len();
        let mut request = http.post(format!("{base}/graphql")).json(&json!({
            "query": doc.query,
            "variables": doc.variables,
        }));
        if let Some(token) = &callers[who].token {
            request = request.bearer_auth(token);
        }
        report.sent += 1;
        let shown = || doc.query.chars().take(2_000).collect::<String>();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                report.findings.push(format!("document {n}: lost connection ({e:?}): {}", shown()));
                continue;
            }
        };
        let status = response.status().as_u16();
        *report.statuses.entry(status).or_default() += 1;
        let body: Value = match response.text().await {
            Ok(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
            Err(e) => {
                report.findings.push(format!("document {n}: the answer was cut off ({e}): {}", shown()));
                continue;
            }
        };
        if status >= 500 {
            report.findings.push(format!("document {n}: HTTP {status} {body}: {}", shown()));
        }
        let mut relogin = false;
        for e in body["errors"].as_array().into_iter().flatten() {
            let code = e["extensions"]["code"].as_str().unwrap_or("(none)");
            *report.codes.entry(code.to_owned()).or_default() += 1;
            if code == "INTERNAL" {
                report.findings.push(format!("document {n}: INTERNAL {e}: {}", shown()));
            }
            relogin |= code == "UNAUTHENTICATED" && callers[who].token.is_some();
        }
        if relogin {
            // A `logout` (or a password change) in an earlier document: log in again.
            login(&http, base, &mut callers[who]).await;
        }
        generator.learn_ids(&body["data"]);
        if (n + 1) % 1_000 == 0 {
            progress(&report);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_sdl_parses_and_the_same_seed_gives_the_same_documents() {
        let docs = |seed| {
            let mut g = Generator::new(Schema::parse(SDL).expect("SDL"), seed);
            (0..200).map(|_| g.document().query).collect::<Vec<_>>()
        };
        assert_eq!(docs(7), docs(7));
        assert_ne!(docs(7), docs(8));
        let all = docs(7).join("\n");
        assert!(all.contains("mutation") && all.contains("fragment") && all.contains("[[[["), "{all}");
    }
}
