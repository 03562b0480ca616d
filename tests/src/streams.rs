//! The table's stream, as Lambda's DynamoDB event source reads it: records from DynamoDB
//! Local's Streams API, in order, turned into the `{"Records": [...]}` event Lambda hands the
//! `events` function; and the event source's retry rules (retry from the reported record,
//! then send it to the on-failure queue and go on).

use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use serde_json::{Value, json};

use crate::harness::TestApp;

/// Every record of the test app's table stream so far, oldest first, as Lambda's event
/// records (`eventName`, `dynamodb.SequenceNumber`, `dynamodb.NewImage` in DynamoDB JSON).
pub async fn records(app: &TestApp) -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("DynamoDB Local");
    let sdk = roster::sdk::load_config().await;
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(
        aws_sdk_dynamodbstreams::config::Builder::from(&sdk).endpoint_url(endpoint).build(),
    );
    let table = app.dynamo.describe_table().table_name(app.table()).send().await.expect("describe table");
    let arn = table.table().and_then(|t| t.latest_stream_arn()).expect("the table has a stream").to_owned();
    let stream = streams.describe_stream().stream_arn(&arn).send().await.expect("describe stream");
    let mut out = Vec::new();
    for shard in stream.stream_description().map(|d| d.shards()).unwrap_or_default() {
        let mut iterator = streams
            .get_shard_iterator()
            .stream_arn(&arn)
            .shard_id(shard.shard_id().unwrap_or_default())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("shard iterator")
            .shard_iterator;
        while let Some(it) = iterator {
            let page = streams.get_records().shard_iterator(it).send().await.expect("get records");
            if page.records().is_empty() {
                break;
            }
            for record in page.records() {
                let data = record.dynamodb();
                let image: serde_json::Map<String, Value> = data
                    .and_then(|d| d.new_image())
                    .map(|image| image.iter().map(|(k, v)| (k.clone(), dynamo_json(v))).collect())
                    .unwrap_or_default();
                out.push(json!({
                    "eventID": record.event_id(),
                    "eventName": record.event_name().map(|n| n.as_str().to_owned()),
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {
                        "SequenceNumber": data.and_then(|d| d.sequence_number()),
                        "NewImage": image,
                        "StreamViewType": "NEW_IMAGE",
                    },
                }));
            }
            iterator = page.next_shard_iterator;
        }
    }
    out.sort_by_key(seq);
    out
}

/// A record's sequence number, as a number (they are decimal strings of growing length).
pub fn seq(record: &Value) -> u128 {
    record["dynamodb"]["SequenceNumber"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn dynamo_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::L(v) => json!({ "L": v.iter().map(dynamo_json).collect::<Vec<_>>() }),
        AttributeValue::M(m) => {
            json!({ "M": m.iter().map(|(k, v)| (k.clone(), dynamo_json(v))).collect::<serde_json::Map<_, _>>() })
        }
        _ => json!({ "NULL": true }),
    }
}

/// Plays Lambda's event source mapping for `records`: batches of `batch` records; a reported
/// failure makes it retry the batch from that record, `max_retries` times, after which the
/// record goes to the on-failure queue (`on_failure`, given the record) and the batch goes
/// on after it. Returns the number of invocations.
pub async fn deliver<F, Fut, G, GFut>(
    records: &[Value],
    batch: usize,
    max_retries: u32,
    invoke: F,
    on_failure: G,
) -> usize
where
    F: Fn(Value) -> Fut,
    Fut: std::future::Future<Output = Value>,
    G: Fn(Value) -> GFut,
    GFut: std::future::Future<Output = ()>,
{
    let (mut at, mut retries, mut invocations) = (0, 0, 0);
    while at < records.len() {
        let end = (at + batch).min(records.len());
        let answer = invoke(json!({ "Records": records[at..end] })).await;
        invocations += 1;
        let failed = answer["batchItemFailures"][0]["itemIdentifier"].as_str().map(str::to_owned);
        let Some(failed) = failed else {
            at = end;
            retries = 0;
            continue;
        };
        let index = records[at..end]
            .iter()
            .position(|r| r["dynamodb"]["SequenceNumber"] == json!(failed))
            .map(|i| at + i)
            .expect("a reported failure names a record of the batch");
        if index == at && retries >= max_retries {
            on_failure(records[at].clone()).await;
            at += 1;
            retries = 0;
        } else {
            retries = if index == at { retries + 1 } else { 1 };
            at = index;
        }
    }
    invocations
}
