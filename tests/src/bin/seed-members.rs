//! `seed-members <orgId> <count>`: writes `count` named members (with their index items,
//! as their transactions would) straight into `<orgId>` of the table `TABLE_NAME` at
//! `AWS_ENDPOINT_URL_DYNAMODB`. For the browser test of a 100,000-member organization
//! (`web/e2e/large-org.test.ts`): seeding through the API would take hours.

use std::time::Instant;

use roster::domain::Timestamp;
use roster_tests::bench::scale::write_members_to;
use roster_tests::bench::search::org_members;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(org), Some(count)) = (args.get(1), args.get(2).and_then(|c| c.parse::<usize>().ok())) else {
        eprintln!("usage: seed-members <orgId> <count>");
        std::process::exit(2);
    };
    let table = std::env::var("TABLE_NAME").expect("TABLE_NAME");
    let sdk = roster::sdk::load_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let started = Instant::now();
    let members = org_members(0, count, Timestamp::now());
    let active = members.iter().filter(|m| m.is_active()).count();
    let items = write_members_to(&dynamo, &table, org, members, 8).await;
    // The organization's counters, as the members' transactions would have moved them (the
    // page says how many members there are).
    let n = |v: usize| aws_sdk_dynamodb::types::AttributeValue::N(v.to_string());
    dynamo
        .update_item()
        .table_name(&table)
        .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(format!("ORG#{org}")))
        .key("SK", aws_sdk_dynamodb::types::AttributeValue::S("ORG".into()))
        .update_expression("ADD memberCount :all, activeMembers :active")
        .expression_attribute_values(":all", n(count))
        .expression_attribute_values(":active", n(active))
        .send()
        .await
        .expect("the organization's counters");
    println!("{count} members ({items} items) in {:.1} s", started.elapsed().as_secs_f64());
}
