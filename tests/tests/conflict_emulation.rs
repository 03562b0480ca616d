//! The conflict proxy (`roster_tests::conflicts`) makes DynamoDB Local answer as DynamoDB does
//! when writes overlap: the real SDK client sees `TransactionCanceledException` with
//! `TransactionConflict` reasons and `TransactionConflictException`, where DynamoDB Local
//! alone lets every request through.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue::S;
use aws_sdk_dynamodb::types::{ConditionCheck, Get, Put, TransactGetItem, TransactWriteItem};
use futures::future::join_all;
use roster_tests::conflicts::{ConflictProxy, Hold};
use roster_tests::harness::TestApp;
use roster_tests::table;

const HOT: (&str, &str) = ("ORG#hot", "ORG");

struct Setup {
    sdk: aws_config::SdkConfig,
    direct: Client,
    table: String,
}

/// A fresh table holding the hot item.
async fn setup() -> Setup {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB");
    assert!(endpoint.is_ok(), "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`");
    let sdk = roster::sdk::load_config().await;
    let direct = Client::new(&sdk);
    let table = format!("roster-conflicts-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    table::ensure(&direct, &table).await.expect("table");
    direct
        .put_item()
        .table_name(&table)
        .item("PK", S(HOT.0.into()))
        .item("SK", S(HOT.1.into()))
        .send()
        .await
        .expect("seed");
    Setup { sdk, direct, table }
}

fn proxy(hold: Hold) -> ConflictProxy {
    ConflictProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap(), hold).expect("proxy")
}

fn via(setup: &Setup, proxy: &ConflictProxy) -> Client {
    Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&setup.sdk).endpoint_url(proxy.endpoint()).build(),
    )
}

fn check_hot(table: &str) -> TransactWriteItem {
    let check = ConditionCheck::builder()
        .table_name(table)
        .key("PK", S(HOT.0.into()))
        .key("SK", S(HOT.1.into()))
        .condition_expression("attribute_exists(PK)")
        .build()
        .unwrap();
    TransactWriteItem::builder().condition_check(check).build()
}

fn put_fresh(table: &str, name: &str) -> TransactWriteItem {
    let put = Put::builder()
        .table_name(table)
        .item("PK", S(format!("ITEM#{name}")))
        .item("SK", S("ITEM".into()))
        .condition_expression("attribute_not_exists(PK)")
        .build()
        .unwrap();
    TransactWriteItem::builder().put(put).build()
}

/// Sends `n` transactions at once, each a fresh put then a check of the hot item; returns the
/// errors.
async fn race_on_hot(client: &Client, table: &str, n: usize, tag: &str) -> Vec<TransactWriteItemsError> {
    let sends = (0..n).map(|i| {
        client
            .transact_write_items()
            .transact_items(put_fresh(table, &format!("{tag}{i}")))
            .transact_items(check_hot(table))
            .send()
    });
    join_all(sends).await.into_iter().filter_map(Result::err).map(SdkError::into_service_error).collect()
}

fn reason_codes(error: &TransactWriteItemsError) -> Vec<String> {
    match error {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("").to_owned()).collect()
        }
        other => panic!("expected TransactionCanceledException, got {other:?}"),
    }
}

#[tokio::test]
async fn concurrent_transactions_on_one_item_are_cancelled_with_transaction_conflict() {
    let setup = setup().await;
    let proxy = proxy(Hold::default());
    let errors = race_on_hot(&via(&setup, &proxy), &setup.table, 50, "p").await;
    assert!(!errors.is_empty(), "no transaction of 50 was cancelled through the proxy");
    for error in &errors {
        assert_eq!(reason_codes(error), ["None", "TransactionConflict"], "{error:?}");
        let TransactWriteItemsError::TransactionCanceledException(e) = error else { unreachable!() };
        assert_eq!(e.cancellation_reasons()[1].message(), Some("Transaction is ongoing for the item"));
        assert!(e.message().unwrap_or("").ends_with("[None, TransactionConflict]"), "{:?}", e.message());
    }
    let stats = proxy.stats();
    assert_eq!(stats.transactions_cancelled, errors.len() as u64);
    assert_eq!(stats.transaction_attempts(), 50);
    assert_eq!(proxy.table_stats(&setup.table), stats);
    eprintln!("through the proxy: {} of 50 cancelled", errors.len());

    // The same race straight on DynamoDB Local: it applies them one at a time.
    let direct_errors = race_on_hot(&setup.direct, &setup.table, 50, "d").await;
    assert!(direct_errors.is_empty(), "DynamoDB Local cancelled some: {direct_errors:?}");
}

#[tokio::test]
async fn a_single_write_on_an_item_of_an_ongoing_transaction_gets_transaction_conflict_exception() {
    let setup = setup().await;
    let proxy = proxy(Hold { transactions: Duration::from_millis(500), ..Hold::default() });
    let client = via(&setup, &proxy);
    let transaction = tokio::spawn({
        let (client, table) = (client.clone(), setup.table.clone());
        async move { client.transact_write_items().transact_items(check_hot(&table)).send().await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let update = || {
        client
            .update_item()
            .table_name(&setup.table)
            .key("PK", S(HOT.0.into()))
            .key("SK", S(HOT.1.into()))
            .update_expression("SET touched = :t")
            .expression_attribute_values(":t", S("yes".into()))
            .send()
    };
    let error =
        update().await.expect_err("the update should meet the ongoing transaction").into_service_error();
    assert!(error.is_transaction_conflict_exception(), "{error:?}");
    assert_eq!(error.meta().message(), Some("Transaction is ongoing for the item"));
    transaction.await.unwrap().expect("the transaction itself succeeds");
    update().await.expect("the item is free once the transaction is done");
    let stats = proxy.stats();
    assert_eq!((stats.transactions, stats.single_writes, stats.single_writes_rejected), (1, 1, 1));
}

#[tokio::test]
async fn a_transaction_on_an_item_of_an_ongoing_single_write_is_cancelled() {
    let setup = setup().await;
    let proxy = proxy(Hold { single_writes: Duration::from_millis(500), ..Hold::default() });
    let client = via(&setup, &proxy);
    let put = tokio::spawn({
        let (client, table) = (client.clone(), setup.table.clone());
        async move {
            client
                .put_item()
                .table_name(&table)
                .item("PK", S(HOT.0.into()))
                .item("SK", S(HOT.1.into()))
                .send()
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let error = client
        .transact_write_items()
        .transact_items(check_hot(&setup.table))
        .transact_items(put_fresh(&setup.table, "other"))
        .send()
        .await
        .expect_err("the transaction should meet the ongoing put")
        .into_service_error();
    assert_eq!(reason_codes(&error), ["TransactionConflict", "None"]);
    // A read transaction meets it too; plain reads never do.
    let get = Get::builder().table_name(&setup.table).key("PK", S(HOT.0.into())).key("SK", S(HOT.1.into()));
    let read = client
        .transact_get_items()
        .transact_items(TransactGetItem::builder().get(get.build().unwrap()).build());
    let read_error =
        read.send().await.expect_err("TransactGetItems should be cancelled").into_service_error();
    assert!(read_error.is_transaction_canceled_exception(), "{read_error:?}");
    let got =
        client.get_item().table_name(&setup.table).key("PK", S(HOT.0.into())).key("SK", S(HOT.1.into()));
    assert!(got.send().await.expect("GetItem never conflicts").item.is_some());
    put.await.unwrap().expect("the put itself succeeds");
    let stats = proxy.stats();
    assert_eq!((stats.transactions_cancelled, stats.read_transactions_cancelled), (1, 1));
}

#[tokio::test]
async fn transactions_on_distinct_items_all_succeed() {
    let setup = setup().await;
    let proxy = proxy(Hold { transactions: Duration::from_millis(50), ..Hold::default() });
    let client = via(&setup, &proxy);
    let sends = (0..50).map(|i| {
        client
            .transact_write_items()
            .transact_items(put_fresh(&setup.table, &format!("a{i}")))
            .transact_items(put_fresh(&setup.table, &format!("b{i}")))
            .send()
    });
    let failed: Vec<_> = join_all(sends).await.into_iter().filter_map(Result::err).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let stats = proxy.stats();
    assert_eq!((stats.transactions, stats.transactions_cancelled), (50, 0));
}

#[tokio::test]
async fn a_transactions_items_are_released_when_it_completes() {
    let setup = setup().await;
    let proxy = proxy(Hold { transactions: Duration::from_millis(20), ..Hold::default() });
    let client = via(&setup, &proxy);
    for i in 0..10 {
        client
            .transact_write_items()
            .transact_items(check_hot(&setup.table))
            .transact_items(put_fresh(&setup.table, &format!("seq{i}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("transaction {i}: {:?}", e.into_service_error()));
    }
    // One cancelled by DynamoDB Local itself (its condition fails) releases its items too, and
    // its error comes through unchanged.
    let error = client
        .transact_write_items()
        .transact_items(check_hot(&setup.table))
        .transact_items(put_fresh(&setup.table, "seq0"))
        .send()
        .await
        .expect_err("the item exists")
        .into_service_error();
    assert_eq!(reason_codes(&error), ["None", "ConditionalCheckFailed"]);
    client.transact_write_items().transact_items(check_hot(&setup.table)).send().await.expect("free again");
    let stats = proxy.stats();
    assert_eq!((stats.transactions, stats.transactions_cancelled), (12, 0));
}

#[tokio::test]
async fn test_apps_go_through_the_shared_proxy_unless_opted_out() {
    let app = TestApp::spawn().await;
    let owner = app.user("owner");
    app.create_org(&owner, "Acme").await;
    let after_create = app.conflict_stats();
    if ConflictProxy::shared().is_none() {
        assert_eq!(after_create, Default::default(), "emulation is off (ROSTER_TEST_CONFLICTS)");
        return;
    }
    assert!(after_create.transaction_attempts() >= 1, "{after_create:?}");
    let app = app.without_conflict_emulation();
    app.create_org(&owner, "Direct").await;
    assert_eq!(app.conflict_stats(), after_create, "an opted-out app bypasses the proxy");
}
