//! Creating the table locally, with the same schema as `infra/template.yaml`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use roster::store::keys;

/// Creates `name` unless it exists, and turns TTL on. Returns whether it was created.
pub async fn ensure(client: &Client, name: &str) -> Result<bool, aws_sdk_dynamodb::Error> {
    create(client, name, false).await
}

/// [`ensure`], with the stream the template's table has (new images, for the `events`
/// function). Only the tests that read it ask for it: DynamoDB Local slows down markedly
/// with a stream on each of the many test tables.
pub async fn ensure_with_stream(client: &Client, name: &str) -> Result<bool, aws_sdk_dynamodb::Error> {
    create(client, name, true).await
}

async fn create(client: &Client, name: &str, stream: bool) -> Result<bool, aws_sdk_dynamodb::Error> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("complete")
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("complete")
    };
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(keys::PK))
        .attribute_definitions(attr(keys::SK))
        .attribute_definitions(attr(keys::GSI1PK))
        .attribute_definitions(attr(keys::GSI1SK))
        .attribute_definitions(attr(keys::GSI2PK))
        .attribute_definitions(attr(keys::GSI3PK))
        .key_schema(key(keys::PK, KeyType::Hash))
        .key_schema(key(keys::SK, KeyType::Range))
        .set_stream_specification(stream.then(|| {
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .expect("complete")
        }))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(keys::GSI1)
                .key_schema(key(keys::GSI1PK, KeyType::Hash))
                .key_schema(key(keys::GSI1SK, KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .expect("complete"),
        )
        // The audit trail by target and by action (sparse: audit events only).
        .global_secondary_indexes(audit_index(keys::GSI2, keys::GSI2PK))
        .global_secondary_indexes(audit_index(keys::GSI3, keys::GSI3PK))
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(keys::TTL)
                .enabled(true)
                .build()
                .expect("complete"),
        )
        .send()
        .await?;
    Ok(true)
}

fn audit_index(name: &str, hash: &str) -> GlobalSecondaryIndex {
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("complete")
    };
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(keys::SK, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("complete")
}
