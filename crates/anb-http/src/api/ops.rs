//! Liveness, readiness and metrics.

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};

use super::models::{CheckOutcome, HealthStatus, Liveness, Readiness, ReadinessReport};
use super::ops_models::OpsSummaryView;
use super::{answering_405, ApiTags};
use crate::error::{Protected, Refused};
use crate::security::Operator;
use crate::state::AppState;

/// `GET /health` responses.
#[derive(ApiResponse)]
pub enum HealthResponse {
    /// The process answers (`{"status": "healthy"}`); no backend is asked.
    #[oai(status = 200)]
    Ok(Json<HealthStatus>),
}

/// `GET /health/ready` responses.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// Every backend answers.
    #[oai(status = 200)]
    Ready(Json<ReadinessReport>),
    /// At least one backend does not; `checks` names it.
    #[oai(status = 503)]
    Unavailable(Json<ReadinessReport>),
}

/// `GET /metrics` responses.
#[derive(ApiResponse)]
pub enum MetricsResponse {
    /// Prometheus' text exposition format.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

/// `GET /api/ops/summary` responses.
#[derive(ApiResponse)]
pub enum OpsSummaryResponse {
    /// The summary.
    #[oai(status = 200)]
    Ok(Json<OpsSummaryView>),
}

answering_405! {
    /// Operations endpoints.
    pub struct OpsApi(OpsOperations);
}

/// The operations of [`OpsApi`].
pub struct OpsOperations;

#[OpenApi(tag = "ApiTags::Ops")]
impl OpsOperations {
    /// Liveness: the process answers.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> HealthResponse {
        HealthResponse::Ok(Json(HealthStatus {
            status: Liveness::Healthy,
        }))
    }

    /// Readiness: the database, the queue and the blob store answer.
    #[oai(path = "/health/ready", method = "get", operation_id = "readiness")]
    async fn ready(&self, state: Data<&AppState>) -> ReadyResponse {
        let results = state.readiness.check().await;
        let healthy = results.iter().all(|(_, r)| r.is_ok());
        let checks = results
            .into_iter()
            .map(|(name, result)| {
                let outcome = match result {
                    Ok(()) => CheckOutcome::Ok,
                    Err(e) => {
                        tracing::warn!(
                            component = name,
                            error = format!("{e:#}"),
                            "readiness check failed"
                        );
                        CheckOutcome::Unavailable
                    }
                };
                (name.to_owned(), outcome)
            })
            .collect();
        if healthy {
            ReadyResponse::Ready(Json(ReadinessReport {
                status: Readiness::Ready,
                checks,
            }))
        } else {
            ReadyResponse::Unavailable(Json(ReadinessReport {
                status: Readiness::Unavailable,
                checks,
            }))
        }
    }

    /// The operator's summary: the queue by state, jobs in flight, the workers alive (last
    /// report, jobs held), videos processed and failed in the last hour with the median and
    /// 95th percentile processing times, the webhook backlog and dead letters. Authorised by
    /// the operators' token (`ANB_OPS_TOKEN`) as a bearer token.
    #[oai(
        path = "/api/ops/summary",
        method = "get",
        operation_id = "ops_summary"
    )]
    async fn summary(
        &self,
        state: Data<&AppState>,
        _operator: Operator,
    ) -> Result<OpsSummaryResponse, Refused<Protected>> {
        let summary = state.showcase.ops_summary().await?;
        Ok(OpsSummaryResponse::Ok(Json(summary.into())))
    }

    /// Prometheus metrics (text exposition format).
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, state: Data<&AppState>) -> MetricsResponse {
        if let Ok(depth) = state.showcase.ports().jobs.depth().await {
            for (label, value) in [
                ("ready", depth.ready),
                ("scheduled", depth.scheduled),
                ("leased", depth.leased),
                ("failed", depth.failed),
            ] {
                metrics::gauge!("anb_queue_depth", "state" => label).set(value as f64);
            }
        }
        MetricsResponse::Ok(PlainText(crate::telemetry::render_metrics()))
    }
}
