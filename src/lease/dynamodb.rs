//! The DynamoDB lease store (aws-sdk-dynamodb, built from the same SDK configuration as the
//! ECS and ELBv2 clients): one item per lease name in a table whose partition key is `name`
//! (S). Every call runs through the call layers (rate limit in the `dynamodb-lease` bucket,
//! metrics, the failure log line).
//!
//! - read: GetItem, strongly consistent.
//! - acquire: read, then PutItem on condition `attribute_not_exists(name)` (nothing was
//!   there) or `fencing = :seen AND (expiresAtMs <= :now OR holder = :me)` (still the item
//!   read, and it expired or is ours).
//! - renew: UpdateItem of `expiresAtMs`/`expiresAt` on condition `holder = :me AND fencing =
//!   :f AND expiresAtMs > :now`.
//! - release: DeleteItem on condition `holder = :me AND fencing = :f`.
//!
//! A failed condition (ConditionalCheckFailedException) is an answer, not an error.
//! `create_table` makes the table (on-demand capacity, TTL on `expiresAt`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::{Acquired, Lease, LeaseStore};
use crate::cloud::aws::errors::cloud_error;
use crate::cloud::layer::{self, CallInfo, Layer, Resource};
use crate::cloud::{CloudError, CloudResult, ErrorKind, Operation};

/// The attribute names of the item.
const NAME: &str = "name";
const HOLDER: &str = "holder";
const EXPIRES_AT: &str = "expiresAt";
const EXPIRES_AT_MS: &str = "expiresAtMs";
const FENCING: &str = "fencing";

/// Leases in one DynamoDB table.
#[derive(Clone)]
pub struct DynamoLeaseStore {
    client: Client,
    table: String,
    layers: Arc<[Arc<dyn Layer>]>,
}

impl std::fmt::Debug for DynamoLeaseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoLeaseStore")
            .field("table", &self.table)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl DynamoLeaseStore {
    /// Leases in `table`, through `client`, every call through `layers`.
    pub fn new(client: Client, table: &str, layers: Vec<Arc<dyn Layer>>) -> DynamoLeaseStore {
        DynamoLeaseStore {
            client,
            table: table.to_string(),
            layers: layers.into(),
        }
    }

    async fn call<T>(
        &self,
        operation: Operation,
        resource: &str,
        call: impl Future<Output = CloudResult<T>>,
    ) -> CloudResult<T> {
        let info = CallInfo {
            operation,
            resource: Resource::One(resource),
        };
        layer::run(&self.layers, &info, call).await
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The lease of an item; an item missing an attribute is treated as expired (fencing 0).
fn lease_of(item: &HashMap<String, AttributeValue>) -> Option<Lease> {
    let text = |k| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let num = |k| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(Lease {
        name: text(NAME)?,
        holder: text(HOLDER).unwrap_or_default(),
        expires_at_ms: num(EXPIRES_AT_MS).unwrap_or(0),
        fencing: num(FENCING).unwrap_or(0),
    })
}

#[async_trait]
impl LeaseStore for DynamoLeaseStore {
    async fn read(&self, name: &str) -> CloudResult<Option<Lease>> {
        let call = async {
            self.client
                .get_item()
                .table_name(&self.table)
                .key(NAME, s(name))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| cloud_error("GetItem", e))
        };
        let out = self.call(Operation::GetItem, name, call).await?;
        Ok(out.item().and_then(lease_of))
    }

    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Acquired> {
        let seen = self.read(name).await?;
        let Some(lease) = Lease::to_acquire(seen.as_ref(), name, holder, now_ms, duration) else {
            return Ok(Acquired::Held(seen));
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(NAME, s(name))
            .item(HOLDER, s(holder))
            .item(EXPIRES_AT, n(lease.expires_at_secs()))
            .item(EXPIRES_AT_MS, n(lease.expires_at_ms))
            .item(FENCING, n(lease.fencing))
            .expression_attribute_names("#n", NAME);
        put = match &seen {
            None => put.condition_expression("attribute_not_exists(#n)"),
            Some(l) => put
                .condition_expression(
                    "attribute_exists(#n) AND #f = :seen AND (#e <= :now OR #h = :me)",
                )
                .expression_attribute_names("#f", FENCING)
                .expression_attribute_names("#e", EXPIRES_AT_MS)
                .expression_attribute_names("#h", HOLDER)
                .expression_attribute_values(":seen", n(l.fencing))
                .expression_attribute_values(":now", n(now_ms))
                .expression_attribute_values(":me", s(holder)),
        };
        let call = async {
            match put.send().await {
                Ok(_) => Ok(Acquired::Won(lease)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(Acquired::Held(None))
                }
                Err(e) => Err(cloud_error("PutItem", e)),
            }
        };
        self.call(Operation::PutItem, name, call).await
    }

    async fn renew(
        &self,
        lease: &Lease,
        now_ms: u64,
        duration: Duration,
    ) -> CloudResult<Option<Lease>> {
        let renewed = Lease {
            expires_at_ms: now_ms + duration.as_millis() as u64,
            ..lease.clone()
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(NAME, s(&lease.name))
            .update_expression("SET #e = :exp, #s = :exps")
            .condition_expression("#h = :me AND #f = :f AND #e > :now")
            .expression_attribute_names("#e", EXPIRES_AT_MS)
            .expression_attribute_names("#s", EXPIRES_AT)
            .expression_attribute_names("#h", HOLDER)
            .expression_attribute_names("#f", FENCING)
            .expression_attribute_values(":exp", n(renewed.expires_at_ms))
            .expression_attribute_values(":exps", n(renewed.expires_at_secs()))
            .expression_attribute_values(":me", s(&lease.holder))
            .expression_attribute_values(":f", n(lease.fencing))
            .expression_attribute_values(":now", n(now_ms));
        let call = async {
            match update.send().await {
                Ok(_) => Ok(Some(renewed)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(None)
                }
                Err(e) => Err(cloud_error("UpdateItem", e)),
            }
        };
        self.call(Operation::UpdateItem, &lease.name, call).await
    }

    async fn release(&self, lease: &Lease) -> CloudResult<bool> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(NAME, s(&lease.name))
            .condition_expression("#h = :me AND #f = :f")
            .expression_attribute_names("#h", HOLDER)
            .expression_attribute_names("#f", FENCING)
            .expression_attribute_values(":me", s(&lease.holder))
            .expression_attribute_values(":f", n(lease.fencing));
        let call = async {
            match delete.send().await {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(cloud_error("DeleteItem", e)),
            }
        };
        self.call(Operation::DeleteItem, &lease.name, call).await
    }

    async fn create_table(&self) -> CloudResult<String> {
        let table = self.table.as_str();
        let invalid = |e: aws_sdk_dynamodb::error::BuildError| {
            CloudError::new(ErrorKind::Invalid, "CreateTable", e.to_string())
        };
        let create = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(NAME)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(invalid)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(NAME)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(invalid)?,
            );
        let call = async {
            match create.send().await {
                Ok(_) => Ok(true),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_resource_in_use_exception()) =>
                {
                    Ok(false)
                }
                Err(e) => Err(cloud_error("CreateTable", e)),
            }
        };
        let created = self.call(Operation::CreateTable, table, call).await?;
        // The table takes a moment to become ACTIVE; TTL can be set only then.
        let mut active = false;
        for _ in 0..60 {
            let call = async {
                self.client
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await
                    .map_err(|e| cloud_error("DescribeTable", e))
            };
            let out = self.call(Operation::DescribeTable, table, call).await?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                active = true;
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if !active {
            return Err(CloudError::new(
                ErrorKind::Transient,
                "DescribeTable",
                format!("table {table} not ACTIVE after 60 s"),
            ));
        }
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES_AT)
            .build()
            .map_err(invalid)?;
        let call = async {
            match self
                .client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(ttl)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                // Already enabled (a table made earlier): AWS answers ValidationException.
                Err(e)
                    if !created
                        && e.as_service_error()
                            .is_some_and(|e| e.meta().code() == Some("ValidationException")) =>
                {
                    Ok(())
                }
                Err(e) => Err(cloud_error("UpdateTimeToLive", e)),
            }
        };
        self.call(Operation::UpdateTimeToLive, table, call).await?;
        Ok(if created {
            format!(
                "created table {table}: on-demand capacity, partition key {NAME} (S), TTL on {EXPIRES_AT}"
            )
        } else {
            format!("table {table} exists already; TTL on {EXPIRES_AT} is on")
        })
    }
}
