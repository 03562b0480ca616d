//! The deployment files agree with the code: `infra/template.yaml` serves exactly the routes
//! of `roster::http::routes::ROUTES` with the right functions, its table has the key layout
//! of `roster::store::keys`, every function's IAM policy grants no more (and no less) than
//! its planned DynamoDB actions, and the events function reads the table's stream and
//! publishes to the stack's bus only; `infra/openapi.yaml` documents exactly those routes.
//! Needs no local servers: it only reads files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use roster::http::routes::{self, Function, ROUTES};
use roster::store::keys;
use serde_yaml_ng::{Mapping, Value};

/// The DynamoDB actions each function performs: (on the table, on the `GSI1` index; for
/// `list`, on `GSI2` and `GSI3` as well).
/// TransactWriteItems is authorized per item action (Put/Update/Delete/ConditionCheck).
/// Changing what a function does to the table means changing this plan and the template's
/// `TableAccess` mapping together.
fn planned_dynamodb_actions(function: Function) -> (&'static [&'static str], &'static [&'static str]) {
    // `Query` on the table, for invite, accept and change-role, counts seats in use when
    // ROSTER_MAX_MEMBERS is set; `ConditionCheckItem` re-checks an acting admin's membership.
    match function {
        Function::CreateOrg => (&["PutItem"], &[]),
        // `PutItem`, `DeleteItem`: a reader's refreshed name moves their member index items.
        Function::List => {
            (&["GetItem", "BatchGetItem", "Query", "UpdateItem", "PutItem", "DeleteItem"], &["Query"])
        }
        Function::Invite => (
            &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        // `ConditionCheckItem`: the join checks the membership vouching for the token.
        Function::Accept => (
            &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        Function::ChangeRole => (
            &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "UpdateItem",
                "PutItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        Function::Remove => {
            (&["GetItem", "BatchGetItem", "UpdateItem", "PutItem", "DeleteItem", "ConditionCheckItem"], &[])
        }
        // `GetItem`: one grant of a workspace to a group.
        Function::Workspaces => (
            &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        Function::Groups => {
            (&["BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem"], &[])
        }
        // `GetItem`: one custom role; `Query`: the organization's roles, and a deletion's count
        // of what holds one (`Select: COUNT`); `BatchGetItem`: the caller's membership with its
        // organization. Writes are transactions (the role, the organization's role count, the
        // acting owner's membership checked).
        Function::Roles => (
            &[
                "GetItem",
                "BatchGetItem",
                "Query",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        // `UpdateItem`: a deleted workspace's or group's memberships, and a removed member's,
        // go in one transaction each with the member's counter or group set. `Scan`,
        // `PutItem`, `ConditionCheckItem`: the upgrade's one-off backfill.
        Function::Purge => (
            &[
                "Query",
                "BatchGetItem",
                "BatchWriteItem",
                "DeleteItem",
                "UpdateItem",
                "Scan",
                "PutItem",
                "ConditionCheckItem",
            ],
            &[],
        ),
        // Reads the table's stream (through its event source mapping), never the table.
        Function::Events => (&[], &[]),
        // An address's pending invitations on GSI1, then their organizations (deleted ones
        // do not count).
        Function::PreSignUp => (&["BatchGetItem"], &["Query"]),
        // As the pre-sign-up trigger, then one transaction of puts: the organization, the
        // owner's membership and index items, the address slot, the audit event, the
        // sign-up record and the one-org lock.
        Function::PostConfirmation => (&["BatchGetItem", "PutItem"], &["Query"]),
        // Two waves of strongly consistent reads, nothing else: batches, and in wave 2 the
        // `Query` of an organization's custom roles when a check may meet one.
        Function::Authorize => (&["BatchGetItem", "Query"], &[]),
        // The user's memberships on GSI1, then their organizations.
        Function::TokenClaims => (&["BatchGetItem"], &["Query"]),
        // The invitation and its organization (one batch); the send's token minted in one
        // transaction (the invitation updated, the old token item deleted, the new one and
        // the address slot put); `sent` and the organization's bounce window updated.
        Function::SendInvitations => (&["BatchGetItem", "UpdateItem", "PutItem", "DeleteItem"], &[]),
        // The invitation's delivery moved with, for a bounce or complaint, its audit event put
        // and the bounce window counted; the window read and rolled, the organization paused.
        Function::EmailEvents => (&["GetItem", "UpdateItem", "PutItem"], &[]),
        // Usage: the organization with the batch's memberships (and a reader's own) in one
        // batch; a record's transaction puts its id's item, checks the membership and adds
        // to its counter; totals are one Query of a metric's days.
        Function::Usage => (&["BatchGetItem", "Query", "PutItem", "UpdateItem", "ConditionCheckItem"], &[]),
        // Adding a user: the read of the caller, organization and slot; the account intent
        // and the membership written as a service's direct add; and, for an address that has
        // an account, an invitation written as invite writes one: invite's list.
        Function::Accounts => planned_dynamodb_actions(Function::Invite),
    }
}

/// The only function that sends email (fed by the invitation email queue).
const SENDS_EMAIL: Function = Function::SendInvitations;

/// The only function that puts invitation emails on the queue (invite and resend).
const QUEUES_EMAIL: Function = Function::Invite;

/// The other function that puts invitation emails on the queue (an address that already has
/// an account is invited), and the only one that acts on the user pool's accounts.
const ADDS_ACCOUNTS: Function = Function::Accounts;

/// What adding a user with a temporary password asks of the stack's user pool, on it alone.
const ACCOUNT_ACTIONS: [&str; 3] =
    ["cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser", "cognito-idp:AdminSetUserPassword"];

/// The only function that follows SES's events of invitation emails.
const FOLLOWS_EMAIL: Function = Function::EmailEvents;

/// What reading an SQS queue takes (the event source mapping uses the function's role).
const QUEUE_CONSUMER_ACTIONS: [&str; 4] =
    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"];

/// The only function fed by the table's stream, and the only one that publishes events.
const PUBLISHES_EVENTS: Function = Function::Events;

/// The functions whose lists hand out cursors (each starts only with `ROSTER_CURSOR_KEYS`).
const HAND_OUT_CURSORS: [Function; 3] = [Function::List, Function::Workspaces, Function::Groups];

/// What reading a DynamoDB stream takes (the event source mapping uses the function's role):
/// these three on the stream itself, and `ListStreams` on the table's streams.
const STREAM_ACTIONS: [&str; 3] =
    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"];
const LIST_STREAMS: &str = "dynamodb:ListStreams";

/// X-Ray has no resource-level permissions: these two actions may (must) use `"*"`.
const XRAY_ACTIONS: [&str; 2] = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// ------------------------------------------------------------------ reading the files

fn infra_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra")
}

fn load(name: &str) -> Value {
    let path = infra_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn mapping<'a>(value: &'a Value, what: &str) -> &'a Mapping {
    value.as_mapping().unwrap_or_else(|| panic!("{what} is not a mapping: {value:?}"))
}

fn string<'a>(value: &'a Value, what: &str) -> &'a str {
    value.as_str().unwrap_or_else(|| panic!("{what} is not a string: {value:?}"))
}

/// A CloudFormation intrinsic function, in either form (`!Ref X` or `{Ref: X}`), as its long
/// name (`Ref`, `Fn::GetAtt`, `Fn::Sub`, ...) and argument. `!GetAtt A.B` becomes `[A, B]`.
fn intrinsic(value: &Value) -> Option<(String, Value)> {
    match value {
        Value::Tagged(tagged) => {
            let short = tagged.tag.to_string();
            let short = short.trim_start_matches('!');
            let name = if short == "Ref" || short == "Condition" {
                short.to_owned()
            } else {
                format!("Fn::{short}")
            };
            let argument = match (&*name, &tagged.value) {
                ("Fn::GetAtt", Value::String(dotted)) => {
                    let (resource, attribute) = dotted.split_once('.').unwrap_or((dotted, ""));
                    Value::Sequence(vec![resource.into(), attribute.into()])
                }
                (_, other) => other.clone(),
            };
            Some((name, argument))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, argument) = map.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
                .then(|| (key.to_owned(), argument.clone()))
        }
        _ => None,
    }
}

/// The logical id that `!Ref X` or `!GetAtt X.Arn` names.
fn referenced_resource(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, Value::String(id)) if name == "Ref" => Some(id),
        (name, Value::Sequence(parts)) if name == "Fn::GetAtt" => parts.first()?.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The resource and attribute that `!GetAtt X.Y` names.
fn get_att(value: &Value) -> Option<(String, String)> {
    match intrinsic(value)? {
        (name, Value::Sequence(parts)) if name == "Fn::GetAtt" && parts.len() == 2 => {
            Some((parts[0].as_str()?.to_owned(), parts[1].as_str()?.to_owned()))
        }
        _ => None,
    }
}

/// The text of a `!Sub "..."` (the one-argument form).
fn sub_text(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, Value::String(text)) if name == "Fn::Sub" => Some(text),
        _ => None,
    }
}

struct Template {
    root: Value,
}

impl Template {
    fn load() -> Self {
        Self { root: load("template.yaml") }
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        mapping(&self.root["Resources"], "Resources").iter().map(|(k, v)| (string(k, "a logical id"), v))
    }

    fn resource(&self, id: &str) -> &Value {
        let found = &self.root["Resources"][id];
        assert!(!found.is_null(), "the template references a resource `{id}` it does not define");
        found
    }

    fn of_type(&self, kind: &str) -> Vec<(&str, &Value)> {
        self.resources().filter(|(_, r)| r["Type"].as_str() == Some(kind)).collect()
    }

    /// The functions, by their Rust binary. Each must be built by cargo-lambda from the
    /// workspace root, one per function of `Function::ALL`.
    fn functions(&self) -> BTreeMap<&'static str, (&str, &Value)> {
        let workspace = infra_dir().join("..").canonicalize().expect("workspace root");
        let mut found = BTreeMap::new();
        for (id, resource) in self.of_type("AWS::Serverless::Function") {
            let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or_else(|| {
                panic!("function {id} has no Metadata.BuildProperties.Binary naming the Rust binary it runs")
            });
            assert_eq!(
                resource["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "function {id} ({binary}) is not built with BuildMethod rust-cargolambda"
            );
            let function = Function::ALL.into_iter().find(|f| f.name() == binary).unwrap_or_else(|| {
                panic!(
                    "function {id} runs binary `{binary}`, which is no function of routes.rs (Function::ALL)"
                )
            });
            let code_uri = string(&resource["Properties"]["CodeUri"], &format!("{id}.CodeUri"));
            let code_dir = infra_dir().join(code_uri).canonicalize();
            assert!(
                code_dir.as_ref().is_ok_and(|dir| *dir == workspace),
                "function {id} ({binary}): CodeUri `{code_uri}` is not the workspace root"
            );
            assert!(
                workspace.join("functions").join(binary).join("Cargo.toml").exists(),
                "function {id}: there is no crate functions/{binary}"
            );
            if let Some((other, _)) = found.insert(function.name(), (id, resource)) {
                panic!("binary `{binary}` is deployed twice: by {other} and by {id}");
            }
        }
        for function in Function::ALL {
            assert!(
                found.contains_key(function.name()),
                "the template deploys no function for binary `{}`",
                function.name()
            );
        }
        found
    }

    fn find_in_map(&self, argument: &Value) -> Value {
        let path: Vec<&str> = argument
            .as_sequence()
            .expect("FindInMap takes a list")
            .iter()
            .map(|p| string(p, "a FindInMap key"))
            .collect();
        assert_eq!(path.len(), 3, "FindInMap with literal keys expected, got {path:?}");
        let found = &self.root["Mappings"][path[0]][path[1]][path[2]];
        assert!(!found.is_null(), "FindInMap {path:?} names nothing in Mappings");
        found.clone()
    }

    /// A policy's `Action` as plain strings (a string, a list, or a `!FindInMap` into
    /// Mappings).
    fn actions(&self, action: &Value, what: &str) -> Vec<String> {
        let resolved = match intrinsic(action) {
            Some((name, argument)) if name == "Fn::FindInMap" => self.find_in_map(&argument),
            Some((name, _)) => panic!("{what}: Action uses {name}, which this test cannot check"),
            None => action.clone(),
        };
        match resolved {
            Value::String(one) => vec![one],
            Value::Sequence(many) => many.iter().map(|a| string(a, what).to_owned()).collect(),
            other => panic!("{what}: unexpected Action {other:?}"),
        }
    }
}

/// The value `variable` has in `owner`'s environment (with its logical id), after checking
/// that no other function gets it (`why`: what the others do not do) and Globals does not
/// set it.
fn environment_of_only<'a>(
    template: &'a Template,
    variable: &str,
    owner: Function,
    why: &str,
) -> (&'a str, &'a Value) {
    let mut found = environment_of_each(template, variable, &[owner], why);
    found.pop().map(|(_, id, value)| (id, value)).expect("one owner")
}

/// The value `variable` has in each owner's environment (with the owner and its logical id,
/// in the order of `owners`), after checking that no other function gets it (`why`: what the
/// others do not do) and Globals does not set it.
fn environment_of_each<'a>(
    template: &'a Template,
    variable: &str,
    owners: &[Function],
    why: &str,
) -> Vec<(Function, &'a str, &'a Value)> {
    let names: Vec<&str> = owners.iter().map(|f| f.name()).collect();
    assert!(
        template.root["Globals"]["Function"]["Environment"]["Variables"][variable].is_null(),
        "{variable} belongs to {names:?} alone, not to Globals"
    );
    let functions = template.functions();
    for (binary, (id, function)) in &functions {
        let value = &function["Properties"]["Environment"]["Variables"][variable];
        if !names.contains(binary) {
            assert!(value.is_null(), "{id} ({binary}) gets {variable} but {why}");
        }
    }
    owners
        .iter()
        .map(|owner| {
            let (id, function) = functions[owner.name()];
            (*owner, id, &function["Properties"]["Environment"]["Variables"][variable])
        })
        .collect()
}

// ------------------------------------------------------------------ routes

type RouteSet = BTreeSet<(String, String, String)>;

fn expected_routes() -> RouteSet {
    ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.name().to_owned())).collect()
}

fn describe(routes: &RouteSet, other: &RouteSet) -> Vec<String> {
    routes.difference(other).map(|(m, p, f)| format!("{m} {p} -> {f}")).collect()
}

/// The one resource of `kind`.
fn the_one<'a>(template: &'a Template, kind: &str) -> (&'a str, &'a Value) {
    let found = template.of_type(kind);
    assert_eq!(found.len(), 1, "the template must define exactly one {kind}");
    found[0]
}

/// The template's HTTP API routes, checked resource by resource (the API, its authorizer,
/// the function behind each integration, API Gateway's permission to invoke it, the stage
/// deploying them): `(method, path, binary)` and the route's logical id.
fn template_routes(template: &Template) -> BTreeMap<(String, String, String), String> {
    assert!(
        template.of_type("AWS::Serverless::HttpApi").is_empty()
            && template.functions().values().all(|(_, f)| f["Properties"]["Events"]
                .as_mapping()
                .is_none_or(|events| events.values().all(|e| e["Type"].as_str() != Some("HttpApi")))),
        "routes are written out as AWS::ApiGatewayV2::Route resources, not as SAM HttpApi events"
    );
    let (api_id, _) = the_one(template, "AWS::ApiGatewayV2::Api");
    let on_api = |id: &str, resource: &Value| {
        assert_eq!(
            referenced_resource(&resource["Properties"]["ApiId"]).as_deref(),
            Some(api_id),
            "{id} is not part of the HTTP API {api_id}"
        );
    };
    let (authorizer_id, authorizer) = the_one(template, "AWS::ApiGatewayV2::Authorizer");
    on_api(authorizer_id, authorizer);
    assert_eq!(authorizer["Properties"]["AuthorizerType"].as_str(), Some("JWT"));

    let binaries: BTreeMap<&str, &str> =
        template.functions().into_iter().map(|(binary, (id, _))| (id, binary)).collect();
    let mut integrations = BTreeMap::new();
    for (id, integration) in template.of_type("AWS::ApiGatewayV2::Integration") {
        on_api(id, integration);
        let properties = &integration["Properties"];
        assert_eq!(properties["IntegrationType"].as_str(), Some("AWS_PROXY"), "{id}");
        assert_eq!(
            properties["PayloadFormatVersion"].as_str(),
            Some("2.0"),
            "{id}: the functions read v2 events"
        );
        let function = get_att(&properties["IntegrationUri"])
            .filter(|(_, attribute)| attribute == "Arn")
            .map(|(function, _)| function)
            .unwrap_or_else(|| panic!("{id}: IntegrationUri is not !GetAtt <function>.Arn"));
        let binary =
            binaries.get(function.as_str()).unwrap_or_else(|| panic!("{id}: {function} is no function"));
        let permitted = template.of_type("AWS::Lambda::Permission").into_iter().any(|(_, permission)| {
            let p = &permission["Properties"];
            referenced_resource(&p["FunctionName"]).as_deref() == Some(function.as_str())
                && p["Principal"].as_str() == Some("apigateway.amazonaws.com")
                && sub_text(&p["SourceArn"]).is_some_and(|arn| arn.contains(&format!(":${{{api_id}}}/")))
        });
        assert!(permitted, "{id}: API Gateway has no permission to invoke {function} from {api_id} alone");
        integrations.insert(id, *binary);
    }

    let stage_waits_for: BTreeSet<&str> = {
        let (stage_id, stage) = the_one(template, "AWS::ApiGatewayV2::Stage");
        on_api(stage_id, stage);
        assert_eq!(stage["Properties"]["StageName"].as_str(), Some("$default"), "{stage_id}");
        stage["DependsOn"].as_sequence().into_iter().flatten().filter_map(Value::as_str).collect()
    };

    let mut served = BTreeMap::new();
    for (id, route) in template.of_type("AWS::ApiGatewayV2::Route") {
        on_api(id, route);
        let properties = &route["Properties"];
        let key = string(&properties["RouteKey"], &format!("{id}.RouteKey"));
        let (method, path) = key.split_once(' ').unwrap_or_else(|| panic!("{id}: route key {key:?}"));
        let integration = sub_text(&properties["Target"])
            .and_then(|t| t.strip_prefix("integrations/${")?.strip_suffix('}').map(str::to_owned))
            .unwrap_or_else(|| panic!("{id}: Target is not !Sub \"integrations/${{<integration>}}\""));
        let binary = integrations
            .get(integration.as_str())
            .unwrap_or_else(|| panic!("{id}: no integration {integration}"));
        let public = ROUTES.iter().any(|r| r.public && r.method == method && r.path == path);
        if public {
            assert_eq!(
                properties["AuthorizationType"].as_str(),
                Some("NONE"),
                "{id} is public: no authorizer"
            );
            assert!(properties["AuthorizerId"].is_null(), "{id} is public: no authorizer");
            assert!(properties["AuthorizationScopes"].is_null(), "{id} is public: no scopes");
        } else {
            assert_eq!(properties["AuthorizationType"].as_str(), Some("JWT"), "{id} must require sign-in");
            assert_eq!(
                referenced_resource(&properties["AuthorizerId"]).as_deref(),
                Some(authorizer_id),
                "{id} must use {authorizer_id}"
            );
            // API Gateway's scope check is the route list's: a service route names its one
            // scope, a route people call has none (their ID tokens carry no scope claim).
            let expected: Vec<&str> = ROUTES
                .iter()
                .filter(|r| r.method == method && r.path == path)
                .filter_map(|r| r.scope)
                .collect();
            let declared: Vec<&str> = properties["AuthorizationScopes"]
                .as_sequence()
                .map(|list| list.iter().map(|s| string(s, &format!("{id}.AuthorizationScopes"))).collect())
                .unwrap_or_default();
            assert_eq!(
                declared, expected,
                "{id}: AuthorizationScopes must be the route's scope in routes.rs (none for routes people call)"
            );
        }
        assert!(
            stage_waits_for.contains(id),
            "the stage is deployed before {id} exists (add it to DependsOn)"
        );
        let previous =
            served.insert((method.to_owned(), path.to_owned(), (*binary).to_owned()), id.to_owned());
        assert!(previous.is_none(), "{key} is declared twice");
    }
    served
}

#[test]
fn template_serves_exactly_the_route_list() {
    let template = Template::load();
    let served: RouteSet = template_routes(&template).into_keys().collect();
    let expected = expected_routes();
    let missing = describe(&expected, &served);
    let extra = describe(&served, &expected);
    assert!(
        missing.is_empty() && extra.is_empty(),
        "infra/template.yaml's HTTP API routes differ from shared/src/http/routes.rs:\n  \
         in routes.rs but not in the template: {missing:#?}\n  \
         in the template but not in routes.rs: {extra:#?}"
    );
}

// ------------------------------------------------------------------ the app's distribution

/// CloudFront's path patterns: case-sensitive, `*` any characters (`/` included), `?` one.
fn path_pattern_matches(pattern: &str, path: &str) -> bool {
    fn matches(pattern: &[u8], path: &[u8]) -> bool {
        match pattern.split_first() {
            None => path.is_empty(),
            Some((b'*', rest)) => (0..=path.len()).any(|skip| matches(rest, &path[skip..])),
            Some((b'?', rest)) => !path.is_empty() && matches(rest, &path[1..]),
            Some((c, rest)) => path.first() == Some(c) && matches(rest, &path[1..]),
        }
    }
    matches(pattern.as_bytes(), path.as_bytes())
}

/// The API's path patterns, from the route list: each first segment, exactly when a route
/// is that one segment, and with everything below it when a route is longer.
fn api_path_patterns() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|route| {
            let path = route.path.trim_start_matches('/');
            match path.split_once('/') {
                None => format!("/{path}"),
                Some((first, _)) => format!("/{first}/*"),
            }
        })
        .collect()
}

/// Paths of the web app (web/src/router.ts and the build's files): all must reach the
/// bucket. Near misses of API paths are here too.
const APP_PATHS: [&str; 17] = [
    "/",
    "/index.html",
    "/main.js",
    "/styles.css",
    "/config.json",
    "/sign-in",
    "/auth/callback",
    "/invite",
    "/o/org_1/members",
    "/o/org_1/members/user-1",
    "/o/org_1/members/apple.001234.abcd",
    "/o/org_1/links",
    "/o/org_1/activity",
    "/o/org_1/settings",
    "/orgsx",
    "/invitations",
    "/Orgs",
];

/// The distribution sends exactly the API's paths (every route of routes.rs, nothing the app
/// serves) to the HTTP API, uncached and with the caller's Authorization header, and
/// everything else to the app's bucket, whose extension-less paths become index.html.
#[test]
fn the_distribution_routes_exactly_the_api_paths_to_the_api() {
    let template = Template::load();
    let (api_id, _) = the_one(&template, "AWS::ApiGatewayV2::Api");
    let (bucket_id, _) = the_one(&template, "AWS::S3::Bucket");
    let (id, distribution) = the_one(&template, "AWS::CloudFront::Distribution");
    let config = &distribution["Properties"]["DistributionConfig"];

    let (mut api_origin, mut app_origin) = (None, None);
    for origin in config["Origins"].as_sequence().expect("Origins") {
        let origin_id = string(&origin["Id"], "an origin's Id");
        let domain = &origin["DomainName"];
        if sub_text(domain)
            .is_some_and(|d| d == format!("${{{api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"))
        {
            assert_eq!(origin["CustomOriginConfig"]["OriginProtocolPolicy"].as_str(), Some("https-only"));
            api_origin = Some(origin_id);
        } else if get_att(domain) == Some((bucket_id.to_owned(), "RegionalDomainName".to_owned())) {
            assert!(
                !origin["OriginAccessControlId"].is_null(),
                "{id}: the bucket is read through origin access control"
            );
            app_origin = Some(origin_id);
        } else {
            panic!("{id}: origin {origin_id} is neither the HTTP API nor the app bucket");
        }
    }
    let (api_origin, app_origin) = (api_origin.expect("an API origin"), app_origin.expect("an app origin"));

    let default = &config["DefaultCacheBehavior"];
    assert_eq!(default["TargetOriginId"].as_str(), Some(app_origin), "{id}: everything else is the app");
    let rewrites = default["FunctionAssociations"].as_sequence().into_iter().flatten().any(|f| {
        f["EventType"].as_str() == Some("viewer-request")
            && get_att(&f["FunctionARN"]).is_some_and(|(function, _)| {
                template.resource(&function)["Type"].as_str() == Some("AWS::CloudFront::Function")
            })
    });
    assert!(rewrites, "{id}: the app's pages need the viewer-request function that serves index.html");
    assert!(
        config["CustomErrorResponses"].is_null(),
        "{id}: custom error pages would rewrite the API's errors too"
    );

    // Behaviours in order: the first whose pattern matches wins, else the default.
    let behaviours: Vec<(&str, &Value)> = config["CacheBehaviors"]
        .as_sequence()
        .expect("CacheBehaviors")
        .iter()
        .map(|b| (string(&b["PathPattern"], "a PathPattern"), b))
        .collect();
    let origin_of = |path: &str| {
        behaviours
            .iter()
            .find(|(pattern, _)| path_pattern_matches(pattern, path))
            .map_or(app_origin, |(_, b)| string(&b["TargetOriginId"], "TargetOriginId"))
    };

    let to_api: BTreeSet<String> = behaviours
        .iter()
        .filter(|(_, b)| b["TargetOriginId"].as_str() == Some(api_origin))
        .map(|(pattern, _)| (*pattern).to_owned())
        .collect();
    assert_eq!(to_api, api_path_patterns(), "{id}: the API behaviours are not the route list's paths");
    assert_eq!(to_api.len(), behaviours.len(), "{id}: a behaviour other than the API's");

    for (pattern, behaviour) in &behaviours {
        let methods: BTreeSet<&str> = behaviour["AllowedMethods"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for route in ROUTES.iter().filter(|r| path_pattern_matches(pattern, r.path)) {
            assert!(methods.contains(route.method), "{id}: {pattern} does not allow {}", route.key());
        }
        assert_eq!(
            behaviour["CachePolicyId"].as_str(),
            Some(CACHING_DISABLED),
            "{id}: {pattern}: API answers are per caller, never cached"
        );
        assert_eq!(
            behaviour["OriginRequestPolicyId"].as_str(),
            Some(ALL_VIEWER_EXCEPT_HOST),
            "{id}: {pattern}: the API needs the Authorization header and its own Host"
        );
    }

    for route in ROUTES {
        let path = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "id_1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        assert_eq!(origin_of(&path), api_origin, "{id}: {} ({path}) does not reach the API", route.key());
        assert!(
            matches!(routes::find(route.method, &path), routes::RouteMatch::Found(..)),
            "sample path {path} is no route"
        );
    }
    for path in APP_PATHS {
        assert_eq!(origin_of(path), app_origin, "{id}: the app's {path} goes to the API");
        assert!(
            matches!(routes::find("GET", path), routes::RouteMatch::Unknown),
            "{path} is listed as the app's but is an API path"
        );
    }
}

/// CloudFront's managed policies, by id.
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

#[test]
fn path_patterns_match_as_cloudfront_does() {
    assert!(path_pattern_matches("/orgs", "/orgs"));
    assert!(!path_pattern_matches("/orgs", "/orgs/"));
    assert!(path_pattern_matches("/orgs/*", "/orgs/o/members"));
    assert!(path_pattern_matches("/orgs/*", "/orgs/"));
    assert!(!path_pattern_matches("/orgs/*", "/orgs"));
    assert!(!path_pattern_matches("/orgs/*", "/Orgs/o"));
    assert!(path_pattern_matches("/*.js", "/a/b.js"));
    assert!(path_pattern_matches("/?", "/a") && !path_pattern_matches("/?", "/ab"));
}

/// Invitation links open the stack's own app unless AppUrl names another, and managed login
/// returns to the app's callback on the distribution (and on AppUrl, when set).
#[test]
fn invitation_links_and_sign_in_return_to_the_app() {
    let template = Template::load();
    let (distribution, _) = the_one(&template, "AWS::CloudFront::Distribution");
    let own = format!("https://${{{distribution}.DomainName}}");
    // Invitation emails (the sender) and invite links (invite) carry the link.
    let owners = [SENDS_EMAIL, QUEUES_EMAIL];
    for (_, id, value) in
        environment_of_each(&template, "ROSTER_APP_URL", &owners, "makes no invitation or invite links")
    {
        let (name, argument) =
            intrinsic(value).unwrap_or_else(|| panic!("{id}: ROSTER_APP_URL is not an !If"));
        let branches = argument.as_sequence().filter(|_| name == "Fn::If").expect("!If [HasAppUrl, ...]");
        assert_eq!(branches[0].as_str(), Some("HasAppUrl"));
        assert_eq!(referenced_resource(&branches[1]).as_deref(), Some("AppUrl"));
        assert_eq!(sub_text(&branches[2]), Some(own.clone()), "{id}: without AppUrl, the distribution");
    }
    // The web app's client: the one with the authorization code flow (the other is the
    // service callers').
    let apps: Vec<(&str, &Value)> = template
        .of_type("AWS::Cognito::UserPoolClient")
        .into_iter()
        .filter(|(_, c)| {
            c["Properties"]["AllowedOAuthFlows"]
                .as_sequence()
                .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("code")))
        })
        .collect();
    assert_eq!(apps.len(), 1, "exactly one app client with the authorization code flow: the web app's");
    let (client_id, client) = apps[0];
    let urls = |key: &str| -> Vec<String> {
        let (name, argument) = intrinsic(&client["Properties"][key]).expect("an !If on HasAppUrl");
        assert_eq!(name, "Fn::If");
        argument.as_sequence().expect("If")[1..]
            .iter()
            .flat_map(|branch| branch.as_sequence().expect("a list of URLs").iter().filter_map(sub_text))
            .collect()
    };
    let callbacks = urls("CallbackURLs");
    for expected in [format!("{own}/auth/callback"), "${AppUrl}/auth/callback".to_owned()] {
        assert!(callbacks.contains(&expected), "{client_id}: no callback {expected}");
    }
    assert_eq!(
        client["Properties"]["AllowedOAuthFlows"].as_sequence().map(Vec::len),
        Some(1),
        "{client_id}: the authorization code flow only"
    );
    assert_eq!(
        client["Properties"]["GenerateSecret"].as_bool(),
        Some(false),
        "{client_id}: a public client (PKCE)"
    );
}

#[test]
fn openapi_documents_exactly_the_route_list() {
    let openapi = load("openapi.yaml");
    assert_eq!(openapi["openapi"].as_str(), Some("3.1.0"), "infra/openapi.yaml must be OpenAPI 3.1.0");
    let template = Template::load();
    // The route's logical id, without "Route", doubles as the operationId.
    let event_names: BTreeMap<(String, String), String> = template_routes(&template)
        .into_iter()
        .map(|((method, path, _), id)| ((method, path), id.trim_end_matches("Route").to_owned()))
        .collect();

    let mut documented = BTreeSet::new();
    for (path, item) in mapping(&openapi["paths"], "paths") {
        let path = string(path, "a path");
        let item = mapping(item, path);
        let shared_params = item.get("parameters");
        for (method, operation) in item {
            let method = string(method, "a key of a path item");
            if !HTTP_METHODS.contains(&method) {
                continue;
            }
            let upper = method.to_ascii_uppercase();
            documented.insert((upper.clone(), path.to_owned()));

            // Its path parameters are exactly the template's braces.
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let declared: BTreeSet<String> = shared_params
                .into_iter()
                .chain(operation.get("parameters"))
                .flat_map(|list| list.as_sequence().into_iter().flatten())
                .map(|p| resolve(&openapi, p))
                .filter(|p| p["in"].as_str() == Some("path"))
                .map(|p| string(&p["name"], "a parameter name").to_owned())
                .collect();
            assert_eq!(
                declared, in_path,
                "infra/openapi.yaml {upper} {path}: declared path parameters differ from the path"
            );

            if let Some(event) = event_names.get(&(upper.clone(), path.to_owned())) {
                assert_eq!(
                    operation["operationId"].as_str(),
                    Some(event.as_str()),
                    "infra/openapi.yaml {upper} {path}: operationId should be the template's route id `{event}Route` without \"Route\""
                );
            }
        }
    }

    let expected: BTreeSet<(String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned())).collect();
    let missing: Vec<String> = expected.difference(&documented).map(|(m, p)| format!("{m} {p}")).collect();
    let extra: Vec<String> = documented.difference(&expected).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "infra/openapi.yaml's operations differ from shared/src/http/routes.rs:\n  \
         in routes.rs but not documented: {missing:#?}\n  \
         documented but not in routes.rs: {extra:#?}"
    );
}

/// Follows a local `$ref` of the OpenAPI document.
fn resolve<'a>(document: &'a Value, node: &'a Value) -> &'a Value {
    let Some(reference) = node["$ref"].as_str() else { return node };
    let target = reference
        .strip_prefix("#/")
        .unwrap_or_else(|| panic!("only local references are expected, got {reference}"))
        .split('/')
        .fold(document, |at, part| &at[part]);
    assert!(!target.is_null(), "infra/openapi.yaml: {reference} resolves to nothing");
    resolve(document, target)
}

// ------------------------------------------------------------------ table

#[test]
fn table_has_the_key_layout_of_the_code() {
    let template = Template::load();
    let tables = template.of_type("AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1, "the template must define exactly one DynamoDB table");
    let table = &tables[0].1["Properties"];

    let key_schema = |schema: &Value, what: &str| -> Vec<(String, String)> {
        schema
            .as_sequence()
            .unwrap_or_else(|| panic!("{what} is not a list"))
            .iter()
            .map(|k| (string(&k["AttributeName"], what).to_owned(), string(&k["KeyType"], what).to_owned()))
            .collect()
    };
    let pair = |name: &str, kind: &str| (name.to_owned(), kind.to_owned());

    assert_eq!(
        key_schema(&table["KeySchema"], "KeySchema"),
        vec![pair(keys::PK, "HASH"), pair(keys::SK, "RANGE")],
        "the table's primary key differs from roster::store::keys (PK, SK)"
    );
    let attributes: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            pair(string(&a["AttributeName"], "AttributeName"), string(&a["AttributeType"], "AttributeType"))
        })
        .collect();
    let expected: BTreeSet<_> = [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK, keys::GSI2PK, keys::GSI3PK]
        .iter()
        .map(|k| pair(k, "S"))
        .collect();
    assert_eq!(
        attributes, expected,
        "the table's AttributeDefinitions differ from roster::store::keys (all strings)"
    );

    let indexes = table["GlobalSecondaryIndexes"].as_sequence().expect("GlobalSecondaryIndexes");
    let names: Vec<&str> = indexes.iter().map(|i| string(&i["IndexName"], "IndexName")).collect();
    assert_eq!(
        names,
        vec![keys::GSI1, keys::GSI2, keys::GSI3],
        "the table's global secondary indexes differ from roster::store::keys"
    );
    for (n, (index, hash)) in [(keys::GSI2, keys::GSI2PK), (keys::GSI3, keys::GSI3PK)].into_iter().enumerate()
    {
        assert_eq!(
            key_schema(&indexes[n + 1]["KeySchema"], "audit index KeySchema"),
            vec![pair(hash, "HASH"), pair(keys::SK, "RANGE")],
            "index {index}'s keys differ from roster::store::keys"
        );
        assert_eq!(
            indexes[n + 1]["Projection"]["ProjectionType"].as_str(),
            Some("ALL"),
            "index {index} must project ALL attributes (audit events are read from it whole)"
        );
    }
    assert_eq!(
        key_schema(&indexes[0]["KeySchema"], "GSI1 KeySchema"),
        vec![pair(keys::GSI1PK, "HASH"), pair(keys::GSI1SK, "RANGE")],
        "index {}'s keys differ from roster::store::keys",
        keys::GSI1
    );
    assert_eq!(
        indexes[0]["Projection"]["ProjectionType"].as_str(),
        Some("ALL"),
        "index {} must project ALL attributes (memberships are read from it whole)",
        keys::GSI1
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(keys::TTL),
        "the table's TTL attribute differs from roster::store::keys::TTL"
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["Enabled"].as_bool(),
        Some(true),
        "the table's TTL is not enabled"
    );
    assert_eq!(
        table["BillingMode"].as_str(),
        Some("PAY_PER_REQUEST"),
        "the table must be on-demand (PAY_PER_REQUEST)"
    );
}

// ------------------------------------------------------------------ IAM

/// What a policy statement's resource is, as far as this product is concerned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Table,
    Index(String),
    /// The table's stream (`!GetAtt Table.StreamArn`).
    Stream,
    /// Every stream of the table (`${Table.Arn}/stream/*`), what `ListStreams` takes.
    Streams,
    /// The stack's EventBridge bus (`!GetAtt <bus>.Arn`).
    EventBus,
    /// An SQS queue of the template, by logical id (`!GetAtt <queue>.Arn`).
    Queue(String),
    /// The stack's Cognito user pool (`!GetAtt <pool>.Arn`).
    UserPool,
    SesIdentity,
    /// An SES configuration set of the template, by logical id
    /// (`arn:...:configuration-set/${<set>}`).
    SesConfigurationSet(String),
    /// A log group by name (`/aws/lambda/${AWS::StackName}-<binary>`), all its streams.
    LogGroup(String),
    Any,
    Other(String),
}

fn target(template: &Template, resource: &Value) -> Target {
    if resource.as_str() == Some("*") {
        return Target::Any;
    }
    let table_id = template.of_type("AWS::DynamoDB::Table")[0].0;
    if let Some((id, attribute)) = get_att(resource) {
        let kind = template.resource(&id)["Type"].as_str().unwrap_or_default();
        match (kind, attribute.as_str()) {
            ("AWS::DynamoDB::Table", "Arn") if id == table_id => return Target::Table,
            ("AWS::DynamoDB::Table", "StreamArn") if id == table_id => return Target::Stream,
            ("AWS::Events::EventBus", "Arn") => return Target::EventBus,
            ("AWS::SQS::Queue", "Arn") => return Target::Queue(id),
            ("AWS::Cognito::UserPool", "Arn") => return Target::UserPool,
            _ => {}
        }
    }
    if let Some(text) = sub_text(resource) {
        if let Some(index) = text.strip_prefix(&format!("${{{table_id}.Arn}}/index/")) {
            return Target::Index(index.to_owned());
        }
        if text == format!("${{{table_id}.Arn}}/stream/*") {
            return Target::Streams;
        }
        if text == "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}" {
            return Target::SesIdentity;
        }
        if let Some(set) = text
            .strip_prefix("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${")
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|set| {
                template.root["Resources"][*set]["Type"].as_str() == Some("AWS::SES::ConfigurationSet")
            })
        {
            return Target::SesConfigurationSet(set.to_owned());
        }
        if let Some(group) = text
            .strip_prefix("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:")
            .and_then(|rest| rest.strip_suffix(":*"))
            .filter(|group| !group.contains('*'))
        {
            return Target::LogGroup(group.to_owned());
        }
        return Target::Other(text);
    }
    Target::Other(format!("{resource:?}"))
}

/// The queue each function may write (`sqs:SendMessage`), by what the template wires: the
/// events function's stream mapping's on-failure destination, the invitation email queue
/// invite names in ROSTER_EMAIL_QUEUE_URL, and the email-events function's on-failure
/// destination (`AWS::Lambda::EventInvokeConfig`).
fn queue_writers(template: &Template) -> BTreeMap<String, Vec<Function>> {
    let functions = template.functions();
    let mut writers = BTreeMap::new();
    let (_, events) = functions[PUBLISHES_EVENTS.name()];
    for event in events["Properties"]["Events"].as_mapping().into_iter().flat_map(Mapping::values) {
        if let Some((queue, _)) =
            get_att(&event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
        {
            writers.insert(queue, vec![PUBLISHES_EVENTS]);
        }
    }
    writers.insert(email_queue(template), vec![QUEUES_EMAIL, ADDS_ACCOUNTS]);
    let (follower_id, _) = functions[FOLLOWS_EMAIL.name()];
    for (_, config) in template.of_type("AWS::Lambda::EventInvokeConfig") {
        if referenced_resource(&config["Properties"]["FunctionName"]).as_deref() == Some(follower_id) {
            if let Some((queue, _)) =
                get_att(&config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
            {
                writers.insert(queue, vec![FOLLOWS_EMAIL]);
            }
        }
    }
    writers
}

/// The invitation email queue: the one invite (and accounts, which invites an address that
/// has an account) names in ROSTER_EMAIL_QUEUE_URL (`!Ref`, the queue's URL), given to no
/// other function.
fn email_queue(template: &Template) -> String {
    let named = environment_of_each(
        template,
        "ROSTER_EMAIL_QUEUE_URL",
        &[QUEUES_EMAIL, ADDS_ACCOUNTS],
        "queues no invitation email",
    );
    let queues: BTreeSet<String> = named
        .iter()
        .map(|(_, id, value)| {
            let queue = referenced_resource(value)
                .filter(|_| intrinsic(value).is_some_and(|(name, _)| name == "Ref"))
                .unwrap_or_else(|| panic!("{id}: ROSTER_EMAIL_QUEUE_URL must be !Ref <queue>"));
            assert_eq!(
                template.resource(&queue)["Type"].as_str(),
                Some("AWS::SQS::Queue"),
                "{id}: ROSTER_EMAIL_QUEUE_URL names {queue}, which is no SQS queue"
            );
            queue
        })
        .collect();
    assert_eq!(queues.len(), 1, "invite and accounts queue to one queue: {queues:?}");
    queues.into_iter().next().expect("one queue")
}

/// A role's inline policies, each `!If [<condition>, <policy>, !Ref AWS::NoValue]` read as
/// its policy (the grant it makes when the condition holds).
fn role_policies(role: &Value) -> Vec<Value> {
    role["Properties"]["Policies"]
        .as_sequence()
        .expect("the role's Policies")
        .iter()
        .map(|policy| match intrinsic(policy) {
            Some((name, argument)) if name == "Fn::If" => {
                argument.as_sequence().expect("!If [condition, then, else]")[1].clone()
            }
            _ => policy.clone(),
        })
        .collect()
}

#[test]
fn every_function_has_least_privilege() {
    let template = Template::load();
    let writers = queue_writers(&template);
    let email_queue = email_queue(&template);
    for (binary, (id, function)) in template.functions() {
        let function_kind = Function::ALL.into_iter().find(|f| f.name() == binary).expect("known");
        let properties = &function["Properties"];
        assert!(
            properties["Policies"].is_null(),
            "function {id} ({binary}) has SAM Policies; its permissions belong in its own role"
        );
        let role_id = referenced_resource(&properties["Role"]).unwrap_or_else(|| {
            panic!("function {id} ({binary}) has no Role of the template (SAM would add a broad one)")
        });
        let role = template.resource(&role_id);
        assert_eq!(role["Type"].as_str(), Some("AWS::IAM::Role"), "{id}'s Role {role_id} is not an IAM role");
        assert!(
            role["Properties"]["ManagedPolicyArns"].is_null(),
            "role {role_id} ({binary}) attaches managed policies; only its inline policy is reviewed"
        );
        let own_log_group = format!("/aws/lambda/${{AWS::StackName}}-{binary}");
        assert_eq!(
            sub_text(&properties["LoggingConfig"]["LogGroup"]).as_deref(),
            Some(own_log_group.as_str()),
            "function {id} ({binary}) does not log to its own group {own_log_group}"
        );

        let mut dynamodb: BTreeMap<Target, BTreeSet<String>> = BTreeMap::new();
        for policy in &role_policies(role) {
            let statements = &policy["PolicyDocument"]["Statement"];
            for (n, statement) in statements.as_sequence().expect("Statement list").iter().enumerate() {
                let what = format!("role {role_id} ({binary}) statement {n}");
                assert_eq!(
                    statement["Effect"].as_str(),
                    Some("Allow"),
                    "{what}: only Allow statements are expected"
                );
                assert!(
                    statement["NotAction"].is_null() && statement["NotResource"].is_null(),
                    "{what}: NotAction/NotResource"
                );
                let actions = template.actions(&statement["Action"], &what);
                for action in &actions {
                    assert!(!action.contains('*'), "{what}: wildcard action `{action}`");
                }
                let resources: Vec<Target> = match &statement["Resource"] {
                    Value::Sequence(many) => many.iter().map(|r| target(&template, r)).collect(),
                    one => vec![target(&template, one)],
                };
                for resource in &resources {
                    for action in &actions {
                        let (service, name) = action.split_once(':').unwrap_or(("", action));
                        match (service, resource) {
                            ("dynamodb", Target::Table | Target::Index(_)) => {
                                dynamodb.entry(resource.clone()).or_default().insert(name.to_owned());
                            }
                            ("ses", Target::SesIdentity | Target::SesConfigurationSet(_))
                                if name == "SendEmail" =>
                            {
                                assert_eq!(
                                    function_kind,
                                    SENDS_EMAIL,
                                    "{what}: ses:SendEmail is granted to `{binary}`; only `{}` sends email",
                                    SENDS_EMAIL.name()
                                )
                            }
                            // The account's sending quota: GetAccount has no resource.
                            ("ses", Target::Any) if name == "GetAccount" => assert_eq!(
                                function_kind,
                                SENDS_EMAIL,
                                "{what}: ses:GetAccount is granted to `{binary}`; only `{}` paces sends",
                                SENDS_EMAIL.name()
                            ),
                            ("logs", Target::LogGroup(group))
                                if name == "CreateLogStream" || name == "PutLogEvents" =>
                            {
                                assert_eq!(
                                    group, &own_log_group,
                                    "{what}: writes to another function's log group"
                                );
                            }
                            ("xray", Target::Any) if XRAY_ACTIONS.contains(&action.as_str()) => {}
                            ("dynamodb", Target::Stream) if STREAM_ACTIONS.contains(&action.as_str()) => {
                                assert_eq!(
                                    function_kind,
                                    PUBLISHES_EVENTS,
                                    "{what}: `{action}` on the table's stream is granted to `{binary}`; only `{}` reads it",
                                    PUBLISHES_EVENTS.name()
                                )
                            }
                            ("dynamodb", Target::Streams) if action == LIST_STREAMS => assert_eq!(
                                function_kind,
                                PUBLISHES_EVENTS,
                                "{what}: `{action}` is granted to `{binary}`; only `{}` reads the stream",
                                PUBLISHES_EVENTS.name()
                            ),
                            ("events", Target::EventBus) if name == "PutEvents" => assert_eq!(
                                function_kind,
                                PUBLISHES_EVENTS,
                                "{what}: events:PutEvents is granted to `{binary}`; only `{}` publishes",
                                PUBLISHES_EVENTS.name()
                            ),
                            // Each queue has one writer: the events function's on-failure
                            // queue, the invitation email queue (invite), the email-events
                            // function's on-failure queue (checked in full below).
                            ("sqs", Target::Queue(queue)) if name == "SendMessage" => assert!(
                                writers.get(queue).is_some_and(|w| w.contains(&function_kind)),
                                "{what}: sqs:SendMessage on {queue} is granted to `{binary}`, which is not one of the queue's writers"
                            ),
                            ("cognito-idp", Target::UserPool)
                                if ACCOUNT_ACTIONS.contains(&action.as_str()) =>
                            {
                                assert_eq!(
                                    function_kind,
                                    ADDS_ACCOUNTS,
                                    "{what}: `{action}` is granted to `{binary}`; only `{}` acts on accounts",
                                    ADDS_ACCOUNTS.name()
                                )
                            }
                            // Only the sender's event source mapping reads the email queue.
                            ("sqs", Target::Queue(queue))
                                if QUEUE_CONSUMER_ACTIONS.contains(&action.as_str()) =>
                            {
                                assert!(
                                    function_kind == SENDS_EMAIL && *queue == email_queue,
                                    "{what}: `{action}` on {queue} is granted to `{binary}`; only `{}` reads a queue, {email_queue}",
                                    SENDS_EMAIL.name()
                                )
                            }
                            (_, Target::Any) => {
                                panic!("{what}: `{action}` is granted on every resource (\"*\")")
                            }
                            _ => panic!(
                                "{what}: `{action}` on {resource:?} is not part of this function's plan"
                            ),
                        }
                    }
                }
            }
        }

        let (table_plan, index_plan) = planned_dynamodb_actions(function_kind);
        let plan = |actions: &[&str]| actions.iter().map(|a| (*a).to_owned()).collect::<BTreeSet<String>>();
        let mut expected = BTreeMap::new();
        expected.insert(Target::Table, plan(table_plan));
        if !index_plan.is_empty() {
            expected.insert(Target::Index(keys::GSI1.to_owned()), plan(index_plan));
        }
        // The audit trail's filters (by target, by action) are read by `list` alone.
        if function_kind == Function::List {
            for index in [keys::GSI2, keys::GSI3] {
                expected.insert(Target::Index(index.to_owned()), plan(index_plan));
            }
        }
        for (resource, granted) in &dynamodb {
            let planned = expected.get(resource).cloned().unwrap_or_default();
            let beyond: Vec<_> = granted.difference(&planned).collect();
            assert!(
                beyond.is_empty(),
                "`{binary}` is granted DynamoDB actions beyond its plan on {resource:?}: {beyond:?}"
            );
        }
        for (resource, planned) in &expected {
            let granted = dynamodb.get(resource).cloned().unwrap_or_default();
            let lacking: Vec<_> = planned.difference(&granted).collect();
            assert!(
                lacking.is_empty(),
                "`{binary}` lacks planned DynamoDB actions on {resource:?}: {lacking:?}"
            );
        }
    }
}

// ------------------------------------------------------------------ events

/// Every (action, resource) a role's inline policies allow.
fn grants(template: &Template, role_id: &str) -> BTreeSet<(String, Target)> {
    let role = template.resource(role_id);
    let mut found = BTreeSet::new();
    for policy in &role_policies(role) {
        for (n, statement) in
            policy["PolicyDocument"]["Statement"].as_sequence().expect("Statement list").iter().enumerate()
        {
            let what = format!("role {role_id} statement {n}");
            assert_eq!(
                statement["Effect"].as_str(),
                Some("Allow"),
                "{what}: only Allow statements are expected"
            );
            assert!(statement["Condition"].is_null(), "{what}: a Condition this test does not read");
            let resources: Vec<Target> = match &statement["Resource"] {
                Value::Sequence(many) => many.iter().map(|r| target(template, r)).collect(),
                one => vec![target(template, one)],
            };
            for action in template.actions(&statement["Action"], &what) {
                for resource in &resources {
                    found.insert((action.clone(), resource.clone()));
                }
            }
        }
    }
    found
}

/// The events function is fed by the table's stream, filtered to inserted audit items,
/// reports the first record it could not publish, retries a bounded number of times without
/// reordering and then hands the record to an on-failure queue; its role reads that stream,
/// puts events on the stack's bus and writes that queue, and nothing else (nothing on the
/// table). The bus reaches it alone; the optional webhook forwards Roster's events.
#[test]
fn events_function_reads_the_stream_and_publishes_to_the_bus_only() {
    let template = Template::load();
    let functions = template.functions();
    let (id, function) = functions[PUBLISHES_EVENTS.name()];
    let properties = &function["Properties"];

    // The table has a stream that carries new images (what the function decodes).
    let (table_id, table) = template.of_type("AWS::DynamoDB::Table")[0];
    let view = table["Properties"]["StreamSpecification"]["StreamViewType"].as_str();
    assert!(
        matches!(view, Some("NEW_IMAGE" | "NEW_AND_OLD_IMAGES")),
        "{table_id}: the stream must carry new images, has StreamViewType {view:?}"
    );

    // One bus, named by Ref in ROSTER_EVENT_BUS (Ref of an event bus is its name).
    let buses = template.of_type("AWS::Events::EventBus");
    assert_eq!(buses.len(), 1, "the template must define exactly one EventBridge bus");
    let bus_id = buses[0].0;
    let (events_id, value) =
        environment_of_only(&template, "ROSTER_EVENT_BUS", PUBLISHES_EVENTS, "publishes no events");
    assert_eq!(
        intrinsic(value),
        Some(("Ref".to_owned(), Value::String(bus_id.to_owned()))),
        "{events_id}: ROSTER_EVENT_BUS must be !Ref {bus_id} (the bus's name)"
    );

    // Its one event: the table's stream.
    let events = mapping(&properties["Events"], &format!("{id}.Events"));
    assert_eq!(events.len(), 1, "{id}: exactly one event, the table's stream, is expected");
    let (name, event) = events.iter().next().expect("one event");
    let what = format!("{id}: event {}", string(name, "an event name"));
    assert_eq!(event["Type"].as_str(), Some("DynamoDB"), "{what} is not a DynamoDB stream event");
    let stream = &event["Properties"];
    assert_eq!(
        get_att(&stream["Stream"]),
        Some((table_id.to_owned(), "StreamArn".to_owned())),
        "{what}: Stream must be !GetAtt {table_id}.StreamArn"
    );
    assert_eq!(
        stream["StartingPosition"].as_str(),
        Some("TRIM_HORIZON"),
        "{what}: TRIM_HORIZON, so events written before the mapping is enabled are published"
    );
    let response_types: Vec<&str> = stream["FunctionResponseTypes"]
        .as_sequence()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        response_types,
        vec!["ReportBatchItemFailures"],
        "{what}: the function answers batchItemFailures; without ReportBatchItemFailures Lambda ignores them"
    );
    let retries = stream["MaximumRetryAttempts"].as_i64();
    assert!(
        retries.is_some_and(|n| (0..=10).contains(&n)),
        "{what}: MaximumRetryAttempts must be bounded (0-10), not {retries:?}: an unbounded record would hold back its organization's later events until it expires"
    );
    let age = stream["MaximumRecordAgeInSeconds"].as_i64();
    assert!(
        age.is_some_and(|s| (60..=86_400).contains(&s)),
        "{what}: MaximumRecordAgeInSeconds must be set within the stream's 24 h retention, not {age:?}"
    );
    assert_ne!(
        stream["BisectBatchOnFunctionError"].as_bool(),
        Some(true),
        "{what}: bisecting a batch publishes later records before earlier ones"
    );
    assert!(
        stream["ParallelizationFactor"].is_null() || stream["ParallelizationFactor"].as_u64() == Some(1),
        "{what}: a parallelization factor above 1 breaks the order per organization"
    );
    assert!(
        stream["TumblingWindowInSeconds"].is_null(),
        "{what}: a tumbling window is not what the function expects"
    );
    let pattern: Vec<serde_json::Value> = stream["FilterCriteria"]["Filters"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{what}: no FilterCriteria.Filters"))
        .iter()
        .map(|filter| {
            let text = string(&filter["Pattern"], &format!("{what}: a filter's Pattern"));
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: filter pattern {text}: {e}"))
        })
        .collect();
    assert_eq!(
        pattern,
        vec![serde_json::json!({
            "eventName": ["INSERT"],
            "dynamodb": { "NewImage": { "type": { "S": ["audit"] } } }
        })],
        "{what}: the filter must pass inserted audit items only"
    );
    let on_failure = &stream["DestinationConfig"]["OnFailure"]["Destination"];
    let queue_id = match get_att(on_failure) {
        Some((queue, attribute)) if attribute == "Arn" => queue,
        _ => panic!("{what}: DestinationConfig.OnFailure.Destination must be !GetAtt <an SQS queue>.Arn"),
    };
    assert_eq!(
        template.resource(&queue_id)["Type"].as_str(),
        Some("AWS::SQS::Queue"),
        "{what}: the on-failure destination {queue_id} is not an SQS queue"
    );

    // Its role: the stream, the bus, the failure queue; its logs and traces; nothing more.
    let role_id = referenced_resource(&properties["Role"]).expect("the events function's Role");
    let own_log_group = format!("/aws/lambda/${{AWS::StackName}}-{}", PUBLISHES_EVENTS.name());
    let mut expected: BTreeSet<(String, Target)> = STREAM_ACTIONS
        .iter()
        .map(|a| ((*a).to_owned(), Target::Stream))
        .chain([
            (LIST_STREAMS.to_owned(), Target::Streams),
            ("events:PutEvents".to_owned(), Target::EventBus),
            ("sqs:SendMessage".to_owned(), Target::Queue(queue_id.clone())),
        ])
        .collect();
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        expected.insert((action.to_owned(), Target::LogGroup(own_log_group.clone())));
    }
    for action in XRAY_ACTIONS {
        expected.insert((action.to_owned(), Target::Any));
    }
    let granted = grants(&template, &role_id);
    let beyond: Vec<_> = granted.difference(&expected).collect();
    let lacking: Vec<_> = expected.difference(&granted).collect();
    assert!(
        beyond.is_empty() && lacking.is_empty(),
        "role {role_id} ({}): granted beyond the plan {beyond:#?}, lacking {lacking:#?}",
        PUBLISHES_EVENTS.name()
    );

    // The optional webhook: a rule on the bus forwarding every Roster event to an API
    // destination of WebhookUrl, with retries and a dead-letter queue.
    // (The SES events' rule is on the default bus: see the invitation email test.)
    let rules: Vec<(&str, &Value)> = template
        .of_type("AWS::Events::Rule")
        .into_iter()
        .filter(|(_, r)| {
            !r["Properties"]["EventBusName"].is_null()
                && r["Properties"]["EventBusName"].as_str() != Some("default")
        })
        .collect();
    assert_eq!(rules.len(), 1, "exactly one rule on the stack's bus, the webhook's, is expected");
    let (rule_id, rule) = rules[0];
    let rule_properties = &rule["Properties"];
    assert!(
        rule["Condition"].as_str().is_some(),
        "{rule_id}: the webhook exists only with WebhookUrl (a Condition)"
    );
    assert_eq!(
        referenced_resource(&rule_properties["EventBusName"]).as_deref(),
        Some(bus_id),
        "{rule_id}: the webhook's rule must be on the stack's bus {bus_id}"
    );
    let sources: Option<Vec<&str>> = rule_properties["EventPattern"]["source"]
        .as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect());
    assert_eq!(
        sources,
        Some(vec![roster::events::SOURCE]),
        "{rule_id}: the pattern's source must be the one the code publishes with"
    );
    let targets = rule_properties["Targets"].as_sequence().expect("the rule's Targets");
    assert_eq!(targets.len(), 1, "{rule_id}: one target, the webhook, is expected");
    let webhook = &targets[0];
    let destination = get_att(&webhook["Arn"]).map(|(d, _)| d).unwrap_or_default();
    assert_eq!(
        template.resource(&destination)["Type"].as_str(),
        Some("AWS::Events::ApiDestination"),
        "{rule_id}: the target is not an API destination of the template"
    );
    assert_eq!(
        intrinsic(&template.resource(&destination)["Properties"]["InvocationEndpoint"]),
        Some(("Ref".to_owned(), Value::String("WebhookUrl".to_owned()))),
        "{destination}: the endpoint must be the WebhookUrl parameter"
    );
    assert!(
        webhook["RetryPolicy"]["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0),
        "{rule_id}: the webhook needs EventBridge's retries (a RetryPolicy)"
    );
    let dead_letter = get_att(&webhook["DeadLetterConfig"]["Arn"]).map(|(q, _)| q).unwrap_or_default();
    assert_eq!(
        template.resource(&dead_letter)["Type"].as_str(),
        Some("AWS::SQS::Queue"),
        "{rule_id}: the webhook needs a dead-letter queue of the template"
    );
}

// ------------------------------------------------------------------ cursor keys

/// The cursor keys are generated by the stack (no deployment runs with a well-known key), in a
/// form the code accepts, and reach exactly the functions that hand out cursors, each by the
/// same reference.
#[test]
fn cursor_keys_are_generated_and_reach_only_the_functions_that_hand_out_cursors() {
    let template = Template::load();
    let secrets = template.of_type("AWS::SecretsManager::Secret");
    assert_eq!(secrets.len(), 1, "the template must define exactly one secret: the cursor keys");
    let (secret_id, secret) = secrets[0];
    let generate = &secret["Properties"]["GenerateSecretString"];
    assert!(
        generate["SecretStringTemplate"].is_null() && generate["GenerateStringKey"].is_null(),
        "{secret_id}: the generated value must be the plain key string, not JSON"
    );
    assert_eq!(
        generate["ExcludePunctuation"].as_bool(),
        Some(true),
        "{secret_id}: punctuation (the comma, say) would not parse as ROSTER_CURSOR_KEYS"
    );
    assert_ne!(generate["IncludeSpace"].as_bool(), Some(true), "{secret_id}: spaces would not parse");
    let length = generate["PasswordLength"].as_u64().expect("GenerateSecretString.PasswordLength") as usize;
    // What Secrets Manager may generate (letters and digits) is what the function accepts.
    let letters_and_digits: Vec<char> = ('A'..='Z').chain('a'..='z').chain('0'..='9').collect();
    for shift in 0..letters_and_digits.len() {
        let sample: String = (0..length).map(|i| letters_and_digits[(i * 7 + shift) % 62]).collect();
        roster::domain::cursor::CursorKeys::parse(&sample).unwrap_or_else(|e| {
            panic!("{secret_id}: a generated value of {length} characters is refused: {e}")
        });
    }

    let reference = format!("{{{{resolve:secretsmanager:${{{secret_id}}}:SecretString:");
    let found =
        environment_of_each(&template, "ROSTER_CURSOR_KEYS", &HAND_OUT_CURSORS, "hands out no cursors");
    let mut texts = BTreeSet::new();
    for (function, id, value) in found {
        let text = sub_text(value).unwrap_or_else(|| {
            panic!("{id} ({}): ROSTER_CURSOR_KEYS is not a !Sub, got {value:?}", function.name())
        });
        assert!(
            text.starts_with(&reference) && text.ends_with("}}"),
            "{id}: ROSTER_CURSOR_KEYS must be a dynamic reference to {secret_id}'s string, got {text}"
        );
        texts.insert(text);
    }
    assert_eq!(
        texts.len(),
        1,
        "ROSTER_CURSOR_KEYS must be the same reference in every function that hands out cursors: {texts:#?}"
    );
}

// ------------------------------------------------------------------ email branding

/// The invitation email's branding: each variable and the template parameter it comes from.
const BRANDING: [(&str, &str); 3] = [
    ("ROSTER_PRODUCT_NAME", "ProductName"),
    ("ROSTER_LOGO_URL", "LogoUrl"),
    ("ROSTER_ACCENT_COLOR", "AccentColor"),
];

/// The branding reaches the function that sends email, and only it, from parameters whose
/// defaults the code accepts at cold start.
#[test]
fn branding_reaches_only_the_function_that_sends_email() {
    let template = Template::load();
    for (variable, parameter) in BRANDING {
        assert!(!template.root["Parameters"][parameter].is_null(), "no parameter {parameter}");
        let (id, value) = environment_of_only(&template, variable, SENDS_EMAIL, "sends no email");
        assert_eq!(
            intrinsic(value),
            Some(("Ref".to_owned(), Value::String(parameter.to_owned()))),
            "{id}: {variable} must be !Ref {parameter}"
        );
    }
    let defaults: Vec<(&str, String)> = BRANDING
        .iter()
        .map(|(variable, parameter)| {
            let default = template.root["Parameters"][*parameter]["Default"].as_str();
            (*variable, default.unwrap_or_else(|| panic!("{parameter} has no text default")).to_owned())
        })
        .collect();
    let config = roster::Config::from_lookup(|key| {
        if key == "TABLE_NAME" {
            return Some("t".to_owned());
        }
        defaults.iter().find(|(variable, _)| *variable == key).map(|(_, value)| value.clone())
    })
    .unwrap_or_else(|e| panic!("the template's branding defaults: {e}"));
    assert_eq!(
        config.branding,
        roster::mail::branding::Branding::default(),
        "the template's defaults are the code's"
    );
}

/// The purge starts `PURGE_GRACE` after a deletion so that every request that read the
/// organization before it has finished: the grace must outlast every API function's
/// timeout. Purge runs must not overlap either: their timeout stays under the schedule's
/// minute.
#[test]
fn the_purge_grace_outlasts_every_request() {
    let template = Template::load();
    let global = template.root["Globals"]["Function"]["Timeout"].as_u64().expect("a global function timeout");
    let grace = roster::store::purge::PURGE_GRACE.as_secs();
    for (binary, (id, function)) in template.functions() {
        let timeout = function["Properties"]["Timeout"].as_u64().unwrap_or(global);
        if binary == Function::Purge.name() {
            assert!(timeout < 60, "{id}: a purge run of {timeout} s could overlap the next (rate 1 minute)");
        } else {
            assert!(timeout < grace, "{id}: a {timeout} s request could outlast the purge's {grace} s grace");
        }
    }
}

// ------------------------------------------------------------------ service callers

/// Service callers (API.md "Service callers"): the stack's pool has a resource server whose
/// scopes are exactly `routes::scopes`, one confidential client with the client-credentials
/// grant and all of them, whose id (and the ServiceClientIds parameter's) the JWT authorizer
/// accepts as an audience (access tokens carry no `aud`; API Gateway compares `client_id`) and
/// every function serving routes reads in ROSTER_SERVICE_CLIENTS, the same everywhere.
#[test]
fn service_callers_have_their_scopes_client_and_list() {
    let template = Template::load();
    let expected_scopes: BTreeSet<String> =
        [routes::scopes::AUTHORIZE, routes::scopes::ADMIN, routes::scopes::USAGE].map(str::to_owned).into();

    let (server_id, server) = the_one(&template, "AWS::Cognito::UserPoolResourceServer");
    assert_eq!(server["Condition"].as_str(), Some("CreatePool"), "{server_id}: on the stack's pool only");
    let identifier = string(&server["Properties"]["Identifier"], "Identifier");
    let scopes: BTreeSet<String> = server["Properties"]["Scopes"]
        .as_sequence()
        .expect("the resource server's Scopes")
        .iter()
        .map(|s| format!("{identifier}/{}", string(&s["ScopeName"], "ScopeName")))
        .collect();
    assert_eq!(scopes, expected_scopes, "{server_id}: the scopes of routes::scopes");

    let services: Vec<(&str, &Value)> = template
        .of_type("AWS::Cognito::UserPoolClient")
        .into_iter()
        .filter(|(_, c)| {
            c["Properties"]["AllowedOAuthFlows"]
                .as_sequence()
                .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("client_credentials")))
        })
        .collect();
    assert_eq!(services.len(), 1, "exactly one app client with the client-credentials grant");
    let (client_id, client) = services[0];
    let properties = &client["Properties"];
    assert_eq!(
        template.root["Conditions"][string(&client["Condition"], "the service client's Condition")],
        serde_yaml_ng::from_str::<Value>(
            r#"!And [!Condition CreatePool, !Equals [!Ref CreateServiceClient, "true"]]"#
        )
        .unwrap(),
        "{client_id}: on the stack's pool only, unless CreateServiceClient=false"
    );
    assert_eq!(client["DependsOn"].as_str(), Some(server_id), "{client_id}: its scopes must exist first");
    assert_eq!(properties["GenerateSecret"].as_bool(), Some(true), "{client_id}: a confidential client");
    assert_eq!(properties["AllowedOAuthFlowsUserPoolClient"].as_bool(), Some(true), "{client_id}");
    assert_eq!(
        properties["AllowedOAuthFlows"].as_sequence().map(Vec::len),
        Some(1),
        "{client_id}: the client-credentials grant only"
    );
    let allowed: BTreeSet<String> = properties["AllowedOAuthScopes"]
        .as_sequence()
        .expect("AllowedOAuthScopes")
        .iter()
        .map(|s| string(s, "a scope").to_owned())
        .collect();
    assert_eq!(allowed, expected_scopes, "{client_id}: may be given every service scope");

    // The authorizer's audience: !Split of a !Sub naming the app client and the service
    // client (stack's pool) or JwtAudience, then ServiceClientIds when set.
    let (authorizer_id, authorizer) = the_one(&template, "AWS::ApiGatewayV2::Authorizer");
    let audience = format!("{:?}", authorizer["Properties"]["JwtConfiguration"]["Audience"]);
    for name in ["UserPoolClient", client_id, "JwtAudience", "ServiceClientIds"] {
        assert!(audience.contains(name), "{authorizer_id}: the audience does not name {name}: {audience}");
    }

    // ROSTER_SERVICE_CLIENTS on every function that serves routes, the same value, naming the
    // service client and the parameter.
    let serving: Vec<Function> =
        Function::ALL.into_iter().filter(|f| ROUTES.iter().any(|r| r.function == *f)).collect();
    let found = environment_of_each(&template, "ROSTER_SERVICE_CLIENTS", &serving, "serves no routes");
    let values: BTreeSet<String> = found.iter().map(|(_, _, value)| format!("{value:?}")).collect();
    assert_eq!(values.len(), 1, "ROSTER_SERVICE_CLIENTS differs between functions: {values:#?}");
    for (function, id, value) in &found {
        let text = format!("{value:?}");
        for name in [client_id, "ServiceClientIds", string(&client["Condition"], "Condition")] {
            assert!(
                text.contains(name),
                "{id} ({}): ROSTER_SERVICE_CLIENTS does not name {name}",
                function.name()
            );
        }
    }

    // What the parameter admits, the code parses.
    let pattern = string(
        &template.root["Parameters"]["ServiceClientIds"]["AllowedPattern"],
        "ServiceClientIds.AllowedPattern",
    );
    assert_eq!(pattern, "^([A-Za-z0-9_.+-]{1,128}(,[A-Za-z0-9_.+-]{1,128})*)?$");
    let parsed = roster::domain::identity::ServiceClients::parse("abc123,,def_4+x.y-z,").expect("parses");
    assert!(parsed.contains("abc123") && parsed.contains("def_4+x.y-z"));
}

// ------------------------------------------------------------------ claims in tokens

/// The token-claims function (README, "Claims in tokens") exists with the stack's pool only,
/// is that pool's pre-token-generation trigger (`V2_0`, or `V1_0` on the Lite plan, which
/// allows no other), may be invoked by Cognito from that pool only, and the web app's tokens
/// live `TokenValidityMinutes` (how stale the claim may be).
#[test]
fn token_claims_is_the_pools_pre_token_generation_trigger() {
    let template = Template::load();
    let functions = template.functions();
    let (function_id, function) = functions[Function::TokenClaims.name()];
    assert_eq!(
        function["Condition"].as_str(),
        Some("CreatePool"),
        "{function_id}: with the stack's pool only"
    );

    let (pool_id, pool) = the_one(&template, "AWS::Cognito::UserPool");
    let properties = &pool["Properties"];
    assert_eq!(
        referenced_parameter(&properties["UserPoolTier"]).as_deref(),
        Some("UserPoolTier"),
        "{pool_id}"
    );
    let tiers: BTreeSet<&str> = template.root["Parameters"]["UserPoolTier"]["AllowedValues"]
        .as_sequence()
        .expect("UserPoolTier's AllowedValues")
        .iter()
        .map(|v| string(v, "a tier"))
        .collect();
    assert_eq!(tiers, BTreeSet::from(["LITE", "ESSENTIALS", "PLUS"]));
    let lite = intrinsic(&template.root["Conditions"]["LitePlan"]).expect("a LitePlan condition");
    assert_eq!(lite.0, "Fn::Equals");
    let compared = lite.1.as_sequence().expect("two operands");
    assert_eq!(referenced_parameter(&compared[0]).as_deref(), Some("UserPoolTier"));
    assert_eq!(compared[1].as_str(), Some("LITE"));

    let config = &properties["LambdaConfig"]["PreTokenGenerationConfig"];
    assert_eq!(
        get_att(&config["LambdaArn"]),
        Some((function_id.to_owned(), "Arn".to_owned())),
        "{pool_id}: PreTokenGenerationConfig.LambdaArn"
    );
    let version = intrinsic(&config["LambdaVersion"]).expect("LambdaVersion: !If [LitePlan, V1_0, V2_0]");
    assert_eq!(
        version,
        ("Fn::If".to_owned(), Value::Sequence(vec!["LitePlan".into(), "V1_0".into(), "V2_0".into()]))
    );
    assert!(
        properties["LambdaConfig"]["PreTokenGeneration"].is_null(),
        "{pool_id}: the legacy PreTokenGeneration would have to name the same function"
    );

    let permissions: Vec<(&str, &Value)> = template
        .of_type("AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| {
            referenced_resource(&p["Properties"]["FunctionName"]).as_deref() == Some(function_id)
        })
        .collect();
    assert_eq!(permissions.len(), 1, "exactly one permission to invoke {function_id}");
    let (permission_id, permission) = permissions[0];
    assert_eq!(permission["Condition"].as_str(), Some("CreatePool"), "{permission_id}");
    assert_eq!(
        permission["Properties"]["Principal"].as_str(),
        Some("cognito-idp.amazonaws.com"),
        "{permission_id}"
    );
    assert_eq!(
        get_att(&permission["Properties"]["SourceArn"]),
        Some((pool_id.to_owned(), "Arn".to_owned())),
        "{permission_id}: from the stack's pool only"
    );

    let web_clients: Vec<(&str, &Value)> = template
        .of_type("AWS::Cognito::UserPoolClient")
        .into_iter()
        .filter(|(_, c)| {
            c["Properties"]["AllowedOAuthFlows"]
                .as_sequence()
                .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("code")))
        })
        .collect();
    assert_eq!(web_clients.len(), 1, "one app client with the authorization code flow");
    let (client_id, client) = web_clients[0];
    for (validity, unit) in [("IdTokenValidity", "IdToken"), ("AccessTokenValidity", "AccessToken")] {
        assert_eq!(
            referenced_parameter(&client["Properties"][validity]).as_deref(),
            Some("TokenValidityMinutes"),
            "{client_id}: {validity}"
        );
        assert_eq!(client["Properties"]["TokenValidityUnits"][unit].as_str(), Some("minutes"), "{client_id}");
    }
}

/// The parameter that `!Ref X` names, when X is a parameter.
fn referenced_parameter(value: &Value) -> Option<String> {
    match intrinsic(value)? {
        (name, Value::String(id)) if name == "Ref" => Some(id),
        _ => None,
    }
}

// ------------------------------------------------------------------ invitation email

/// The template parameter that `value` is `!Ref` of (with what for the message).
fn assert_ref(value: &Value, parameter: &str, what: &str) {
    assert_eq!(
        intrinsic(value),
        Some(("Ref".to_owned(), Value::String(parameter.to_owned()))),
        "{what} must be !Ref {parameter}, got {value:?}"
    );
}

/// The resource that `!GetAtt X.Arn` names, checked to be of `kind`.
fn arn_of<'a>(template: &'a Template, value: &Value, kind: &str, what: &str) -> (String, &'a Value) {
    let (id, attribute) =
        get_att(value).unwrap_or_else(|| panic!("{what} is not !GetAtt <resource>.Arn: {value:?}"));
    assert_eq!(attribute, "Arn", "{what}: !GetAtt {id}.{attribute}, not .Arn");
    let resource = template.resource(&id);
    assert_eq!(resource["Type"].as_str(), Some(kind), "{what}: {id} is not an {kind}");
    (id, resource)
}

/// An alarm that fires as soon as `queue` holds a message, notifying AlarmTopicArn when set.
fn assert_alarm_on(template: &Template, queue: &str) {
    let alarms: Vec<(&str, &Value)> = template
        .of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| {
            a["Properties"]["Dimensions"].as_sequence().is_some_and(|d| {
                d.iter().any(|d| {
                    d["Name"].as_str() == Some("QueueName")
                        && get_att(&d["Value"]) == Some((queue.to_owned(), "QueueName".to_owned()))
                })
            })
        })
        .collect();
    assert_eq!(alarms.len(), 1, "{queue}: exactly one alarm on its QueueName is expected");
    let (id, alarm) = alarms[0];
    let p = &alarm["Properties"];
    assert_eq!(p["Namespace"].as_str(), Some("AWS/SQS"), "{id}");
    assert_eq!(p["MetricName"].as_str(), Some("ApproximateNumberOfMessagesVisible"), "{id}");
    assert_eq!(p["ComparisonOperator"].as_str(), Some("GreaterThanThreshold"), "{id}");
    assert_eq!(p["Threshold"].as_f64().or_else(|| p["Threshold"].as_str()?.parse().ok()), Some(0.0), "{id}");
    assert_eq!(p["Statistic"].as_str(), Some("Maximum"), "{id}: one message is enough");
    assert_eq!(p["TreatMissingData"].as_str(), Some("notBreaching"), "{id}: an empty queue sends no data");
    let actions = format!("{:?}", p["AlarmActions"]);
    assert!(
        actions.contains("HasAlarmTopic") && actions.contains("AlarmTopicArn"),
        "{id}: AlarmActions must be !If [HasAlarmTopic, [!Ref AlarmTopicArn], !Ref AWS::NoValue], got {actions}"
    );
}

/// Encrypted at rest with SQS-managed keys.
fn assert_encrypted(template: &Template, queue: &str) {
    assert_eq!(
        template.resource(queue)["Properties"]["SqsManagedSseEnabled"].as_bool(),
        Some(true),
        "{queue}: server-side encryption (SqsManagedSseEnabled) must be on"
    );
}

/// A number of the template, literal or text.
fn number(value: &Value, what: &str) -> u64 {
    value
        .as_u64()
        .or_else(|| value.as_str()?.parse().ok())
        .unwrap_or_else(|| panic!("{what} is not a whole number: {value:?}"))
}

/// Every (action, resource) the function's role allows beside its logs and traces, which
/// every function has and which `every_function_has_least_privilege` checks.
fn grants_beyond_logs(template: &Template, function: Function) -> BTreeSet<(String, Target)> {
    let functions = template.functions();
    let (id, resource) = functions[function.name()];
    let role_id =
        referenced_resource(&resource["Properties"]["Role"]).unwrap_or_else(|| panic!("{id}: no Role"));
    grants(template, &role_id)
        .into_iter()
        .filter(|(action, _)| !action.starts_with("logs:") && !XRAY_ACTIONS.contains(&action.as_str()))
        .collect()
}

/// The function's planned actions on the table, as grants.
fn table_grants(function: Function) -> BTreeSet<(String, Target)> {
    let (table, index) = planned_dynamodb_actions(function);
    assert!(index.is_empty(), "{}: no index in the plan expected", function.name());
    table.iter().map(|a| (format!("dynamodb:{a}"), Target::Table)).collect()
}

/// API.md "Email delivery" as the template wires it: invite queues `{orgId, invitationId,
/// sendNumber}` on an encrypted queue (and may do nothing else with it, and send no email);
/// send-invitations reads that queue (partial batch responses, its maximum concurrency the
/// SendConcurrency the code divides the rate by, the queue's maxReceiveCount the SendAttempts
/// the code counts to), sends as SesIdentity through the stack's configuration set, and may do
/// nothing else; a message it gives up on lands in an encrypted dead-letter queue with an
/// alarm. The configuration set publishes Send, Delivery, Bounce, Complaint, Reject and
/// Rendering Failure events to the account's default bus, where a rule matching the set's
/// name invokes email-events (retried, with a dead-letter queue), whose role updates the
/// table only (and writes its on-failure queue). The abuse limits and pause thresholds reach
/// only the functions that apply them, with the code's defaults.
#[test]
fn invitation_email_is_queued_sent_and_followed_as_wired() {
    let template = Template::load();
    let functions = template.functions();
    let parameter_default = |name: &str| -> String {
        let default = &template.root["Parameters"][name]["Default"];
        assert!(!default.is_null(), "parameter {name} needs a default");
        match default {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => panic!("parameter {name}: default {other:?}"),
        }
    };

    // -------- the queue, its dead-letter queue and alarm
    let queue = email_queue(&template);
    assert_encrypted(&template, &queue);
    let queue_properties = &template.resource(&queue)["Properties"];
    let redrive = &queue_properties["RedrivePolicy"];
    let (dead_letter, _) = arn_of(
        &template,
        &redrive["deadLetterTargetArn"],
        "AWS::SQS::Queue",
        &format!("{queue}: RedrivePolicy"),
    );
    assert_ne!(dead_letter, queue);
    assert_ref(
        &redrive["maxReceiveCount"],
        "SendAttempts",
        &format!("{queue}: RedrivePolicy.maxReceiveCount"),
    );
    assert_encrypted(&template, &dead_letter);
    assert_alarm_on(&template, &dead_letter);

    // -------- the sender
    let (sender_id, sender) = functions[SENDS_EMAIL.name()];
    let properties = &sender["Properties"];
    let timeout = number(&properties["Timeout"], &format!("{sender_id}.Timeout"));
    let visibility = number(&queue_properties["VisibilityTimeout"], &format!("{queue}.VisibilityTimeout"));
    assert!(
        visibility >= 6 * timeout,
        "{queue}: VisibilityTimeout {visibility} s must be at least six times {sender_id}'s {timeout} s"
    );
    let events = mapping(&properties["Events"], &format!("{sender_id}.Events"));
    assert_eq!(events.len(), 1, "{sender_id}: exactly one event, the queue, is expected");
    let event = events.values().next().expect("one event");
    assert_eq!(event["Type"].as_str(), Some("SQS"), "{sender_id}: its event is the queue");
    let source = &event["Properties"];
    assert_eq!(
        get_att(&source["Queue"]),
        Some((queue.clone(), "Arn".to_owned())),
        "{sender_id}: it reads the invitation email queue {queue}"
    );
    assert_eq!(number(&source["BatchSize"], "BatchSize"), 10, "{sender_id}: batches of 10");
    assert_eq!(
        source["FunctionResponseTypes"]
            .as_sequence()
            .map(|l| l.iter().filter_map(Value::as_str).collect::<Vec<_>>()),
        Some(vec!["ReportBatchItemFailures"]),
        "{sender_id}: the function answers batchItemFailures"
    );
    assert_ref(
        &source["ScalingConfig"]["MaximumConcurrency"],
        "SendConcurrency",
        &format!("{sender_id}: MaximumConcurrency"),
    );
    let minimum =
        number(&template.root["Parameters"]["SendConcurrency"]["MinValue"], "SendConcurrency.MinValue");
    assert!(minimum >= 2, "SendConcurrency: Lambda's MaximumConcurrency is at least 2");

    for (variable, parameter) in [
        ("ROSTER_SEND_CONCURRENCY", "SendConcurrency"),
        ("ROSTER_SEND_ATTEMPTS", "SendAttempts"),
        ("ROSTER_SEND_RATE", "SendRate"),
    ] {
        let (id, value) = environment_of_only(&template, variable, SENDS_EMAIL, "sends no email");
        assert_ref(value, parameter, &format!("{id}: {variable}"));
    }
    let (sets_id, value) =
        environment_of_only(&template, "ROSTER_SES_CONFIGURATION_SET", SENDS_EMAIL, "sends no email");
    let (set_id, _) = the_one(&template, "AWS::SES::ConfigurationSet");
    assert_ref(value, set_id, &format!("{sets_id}: ROSTER_SES_CONFIGURATION_SET (the set's name)"));
    environment_of_only(&template, "ROSTER_FROM_EMAIL", SENDS_EMAIL, "sends no email");

    // Its role: the table plan, reading the queue, sending as the identity through the set,
    // the account's quota. Nothing else.
    let mut expected = table_grants(SENDS_EMAIL);
    for action in QUEUE_CONSUMER_ACTIONS {
        expected.insert((action.to_owned(), Target::Queue(queue.clone())));
    }
    expected.insert(("ses:SendEmail".to_owned(), Target::SesIdentity));
    expected.insert(("ses:SendEmail".to_owned(), Target::SesConfigurationSet(set_id.to_owned())));
    expected.insert(("ses:GetAccount".to_owned(), Target::Any));
    let granted = grants_beyond_logs(&template, SENDS_EMAIL);
    assert_eq!(granted, expected, "{sender_id}'s role: the plan exactly");

    // Invite queues, and sends no email.
    let mut expected = table_grants(QUEUES_EMAIL);
    expected.insert(("sqs:SendMessage".to_owned(), Target::Queue(queue.clone())));
    assert_eq!(grants_beyond_logs(&template, QUEUES_EMAIL), expected, "invite's role: the plan exactly");
    // Accounts queues an invitation's email too, and acts on the user pool's accounts.
    let mut expected = table_grants(ADDS_ACCOUNTS);
    expected.insert(("sqs:SendMessage".to_owned(), Target::Queue(queue.clone())));
    expected.extend(ACCOUNT_ACTIONS.iter().map(|a| ((*a).to_owned(), Target::UserPool)));
    assert_eq!(grants_beyond_logs(&template, ADDS_ACCOUNTS), expected, "accounts' role: the plan exactly");

    // -------- the configuration set and its events
    let (destination_id, destination) = the_one(&template, "AWS::SES::ConfigurationSetEventDestination");
    let d = &destination["Properties"];
    assert_ref(&d["ConfigurationSetName"], set_id, &format!("{destination_id}: ConfigurationSetName"));
    assert_ne!(d["EventDestination"]["Enabled"].as_bool(), Some(false), "{destination_id}: enabled");
    let types: BTreeSet<&str> = d["EventDestination"]["MatchingEventTypes"]
        .as_sequence()
        .expect("MatchingEventTypes")
        .iter()
        .map(|t| string(t, "an event type"))
        .collect();
    assert_eq!(
        types,
        BTreeSet::from(["send", "delivery", "bounce", "complaint", "reject", "renderingFailure"]),
        "{destination_id}: the events the handler follows (CloudFormation's spelling)"
    );
    const DEFAULT_BUS: &str =
        "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default";
    assert_eq!(
        sub_text(&d["EventDestination"]["EventBridgeDestination"]["EventBusArn"]).as_deref(),
        Some(DEFAULT_BUS),
        "{destination_id}: SES publishes to the default bus only"
    );

    // The rule on the default bus: SES's events of this set, to email-events.
    let (follower_id, follower) = functions[FOLLOWS_EMAIL.name()];
    let rules: Vec<(&str, &Value)> = template
        .of_type("AWS::Events::Rule")
        .into_iter()
        .filter(|(_, r)| {
            r["Properties"]["EventPattern"]["source"]
                .as_sequence()
                .is_some_and(|s| s.iter().any(|s| s.as_str() == Some("aws.ses")))
        })
        .collect();
    assert_eq!(rules.len(), 1, "exactly one rule for SES's events is expected");
    let (rule_id, rule) = rules[0];
    let r = &rule["Properties"];
    assert!(
        r["EventBusName"].is_null() || r["EventBusName"].as_str() == Some("default"),
        "{rule_id}: on the default bus, where SES publishes"
    );
    assert!(rule["Condition"].is_null(), "{rule_id}: always there");
    let pattern = &r["EventPattern"];
    assert_eq!(pattern["source"].as_sequence().map(Vec::len), Some(1), "{rule_id}: source aws.ses only");
    let tags = mapping(&pattern["detail"]["mail"]["tags"], &format!("{rule_id}: detail.mail.tags"));
    assert_eq!(tags.len(), 1, "{rule_id}: matched on the configuration set's tag only");
    let names = tags.get("ses:configuration-set").and_then(Value::as_sequence).unwrap_or_else(|| {
        panic!("{rule_id}: the pattern must match detail.mail.tags.ses:configuration-set")
    });
    assert_eq!(names.len(), 1, "{rule_id}: the stack's set only");
    assert_ref(&names[0], set_id, &format!("{rule_id}: the configuration set's name"));
    let targets = r["Targets"].as_sequence().expect("the rule's Targets");
    assert_eq!(targets.len(), 1, "{rule_id}: one target, {follower_id}");
    let target = &targets[0];
    assert_eq!(
        get_att(&target["Arn"]),
        Some((follower_id.to_owned(), "Arn".to_owned())),
        "{rule_id}: the target is {follower_id}"
    );
    assert!(
        target["RetryPolicy"]["MaximumRetryAttempts"].as_u64().is_some_and(|n| n > 0),
        "{rule_id}: EventBridge's retries (a RetryPolicy)"
    );
    let (rule_dead_letter, _) = arn_of(
        &template,
        &target["DeadLetterConfig"]["Arn"],
        "AWS::SQS::Queue",
        &format!("{rule_id}: DeadLetterConfig"),
    );
    assert_encrypted(&template, &rule_dead_letter);
    assert_alarm_on(&template, &rule_dead_letter);
    let may_write = template.of_type("AWS::SQS::QueuePolicy").into_iter().any(|(_, policy)| {
        let p = &policy["Properties"];
        p["Queues"].as_sequence().is_some_and(|q| {
            q.iter().any(|q| referenced_resource(q).as_deref() == Some(rule_dead_letter.as_str()))
        }) && p["PolicyDocument"]["Statement"].as_sequence().is_some_and(|s| {
            s.iter().any(|s| {
                s["Principal"]["Service"].as_str() == Some("events.amazonaws.com")
                    && s["Action"].as_str() == Some("sqs:SendMessage")
                    && get_att(&s["Condition"]["ArnEquals"]["aws:SourceArn"])
                        == Some((rule_id.to_owned(), "Arn".to_owned()))
            })
        })
    });
    assert!(may_write, "{rule_dead_letter}: a queue policy must let {rule_id} (only) write it");
    let permissions: Vec<(&str, &Value)> = template
        .of_type("AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| {
            referenced_resource(&p["Properties"]["FunctionName"]).as_deref() == Some(follower_id)
        })
        .collect();
    assert_eq!(permissions.len(), 1, "exactly one permission to invoke {follower_id}");
    let (permission_id, permission) = permissions[0];
    assert_eq!(
        permission["Properties"]["Principal"].as_str(),
        Some("events.amazonaws.com"),
        "{permission_id}"
    );
    assert_eq!(
        get_att(&permission["Properties"]["SourceArn"]),
        Some((rule_id.to_owned(), "Arn".to_owned())),
        "{permission_id}: from {rule_id} only"
    );
    assert!(follower["Properties"]["Events"].is_null(), "{follower_id}: invoked by {rule_id} only");

    // email-events: the table plan and its on-failure queue, nothing else.
    let configs: Vec<(&str, &Value)> = template
        .of_type("AWS::Lambda::EventInvokeConfig")
        .into_iter()
        .filter(|(_, c)| {
            referenced_resource(&c["Properties"]["FunctionName"]).as_deref() == Some(follower_id)
        })
        .collect();
    assert_eq!(
        configs.len(),
        1,
        "{follower_id}: one EventInvokeConfig (its asynchronous retries and on-failure queue)"
    );
    let (config_id, config) = configs[0];
    let (on_failure, _) = arn_of(
        &template,
        &config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"],
        "AWS::SQS::Queue",
        &format!("{config_id}: OnFailure"),
    );
    assert_encrypted(&template, &on_failure);
    assert_alarm_on(&template, &on_failure);
    let mut expected = table_grants(FOLLOWS_EMAIL);
    expected.insert(("sqs:SendMessage".to_owned(), Target::Queue(on_failure.clone())));
    assert_eq!(
        grants_beyond_logs(&template, FOLLOWS_EMAIL),
        expected,
        "{follower_id}'s role: the plan exactly"
    );

    // -------- limits and thresholds: each to the function applying it, the code's defaults
    let queuers: &[Function] = &[QUEUES_EMAIL, ADDS_ACCOUNTS];
    let settings = [
        ("ROSTER_INVITE_EMAILS_PER_ORG_HOUR", "InviteEmailsPerOrgHour", queuers),
        ("ROSTER_INVITE_EMAILS_PER_ORG_DAY", "InviteEmailsPerOrgDay", queuers),
        ("ROSTER_INVITE_EMAILS_PER_INVITER_HOUR", "InviteEmailsPerInviterHour", queuers),
        ("ROSTER_PAUSE_BOUNCE_PERCENT", "PauseBouncePercent", &[FOLLOWS_EMAIL]),
        ("ROSTER_PAUSE_COMPLAINT_PERCENT", "PauseComplaintPercent", &[FOLLOWS_EMAIL]),
        ("ROSTER_PAUSE_WINDOW", "PauseWindow", &[FOLLOWS_EMAIL]),
        ("ROSTER_SEND_RATE", "SendRate", &[SENDS_EMAIL]),
        ("ROSTER_SEND_CONCURRENCY", "SendConcurrency", &[SENDS_EMAIL]),
        ("ROSTER_SEND_ATTEMPTS", "SendAttempts", &[SENDS_EMAIL]),
    ];
    for (variable, parameter, owners) in settings {
        for (_, id, value) in environment_of_each(&template, variable, owners, "does not apply it") {
            assert_ref(value, parameter, &format!("{id}: {variable}"));
        }
    }
    let defaults: Vec<(&str, String)> =
        settings.iter().map(|(variable, parameter, _)| (*variable, parameter_default(parameter))).collect();
    let config = roster::Config::from_lookup(|key| {
        if key == "TABLE_NAME" {
            return Some("t".to_owned());
        }
        defaults.iter().find(|(variable, _)| *variable == key).map(|(_, value)| value.clone())
    })
    .unwrap_or_else(|e| panic!("the template's email defaults: {e}"));
    assert_eq!(
        config.mail,
        roster::config::MailSettings::default(),
        "the template's defaults are the code's"
    );
}

/// Adding users with a temporary password: the accounts function is told the stack's pool only
/// when the stack creates one (else it answers 501), and that pool's password policy exactly,
/// which it checks given passwords against and generates to; its Cognito grants exist only
/// with the pool.
#[test]
fn accounts_know_the_stacks_pool_and_its_password_policy() {
    let template = Template::load();
    let (pool_id, pool) = the_one(&template, "AWS::Cognito::UserPool");
    let (id, value) =
        environment_of_only(&template, "ROSTER_USER_POOL_ID", ADDS_ACCOUNTS, "adds no accounts");
    let (name, argument) =
        intrinsic(value).unwrap_or_else(|| panic!("{id}: ROSTER_USER_POOL_ID is not an !If"));
    let branches = argument.as_sequence().filter(|_| name == "Fn::If").expect("!If [CreatePool, ...]");
    assert_eq!(branches[0].as_str(), Some("CreatePool"), "{id}");
    assert_eq!(referenced_resource(&branches[1]).as_deref(), Some(pool_id), "{id}");
    assert_eq!(branches[2].as_str(), Some(""), "{id}: no pool without CreatePool");

    let policy = &pool["Properties"]["Policies"]["PasswordPolicy"];
    let min = policy["MinimumLength"].as_u64().expect("the pool's MinimumLength").to_string();
    let require: Vec<&str> = [
        ("RequireLowercase", "lowercase"),
        ("RequireUppercase", "uppercase"),
        ("RequireNumbers", "numbers"),
        ("RequireSymbols", "symbols"),
    ]
    .into_iter()
    .filter(|(key, _)| policy[*key].as_bool() == Some(true))
    .map(|(_, class)| class)
    .collect();
    let expected = roster::domain::password::PasswordPolicy::parse(&min, &require.join(",")).expect("policy");
    let variable = |name: &str| {
        let (_, value) = environment_of_only(&template, name, ADDS_ACCOUNTS, "adds no accounts");
        value.as_str().unwrap_or_else(|| panic!("{name} is a literal")).to_owned()
    };
    let configured = roster::domain::password::PasswordPolicy::parse(
        &variable("ROSTER_PASSWORD_MIN_LENGTH"),
        &variable("ROSTER_PASSWORD_REQUIRE"),
    )
    .expect("the function's policy parses");
    assert_eq!(configured, expected, "the accounts function's password policy is the pool's");

    let functions = template.functions();
    let (_, function) = functions[ADDS_ACCOUNTS.name()];
    let role = template.resource(&referenced_resource(&function["Properties"]["Role"]).expect("a role"));
    let on_pool: Vec<&Value> = role["Properties"]["Policies"]
        .as_sequence()
        .expect("policies")
        .iter()
        .filter(|p| format!("{p:?}").contains("cognito-idp"))
        .collect();
    assert_eq!(on_pool.len(), 1, "one policy grants the pool's actions");
    let (name, argument) = intrinsic(on_pool[0]).expect("the pool's policy is an !If");
    assert_eq!((name.as_str(), argument[0].as_str()), ("Fn::If", Some("CreatePool")));
}
