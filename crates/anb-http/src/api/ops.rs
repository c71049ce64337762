//! Liveness, readiness and metrics.

use std::collections::BTreeMap;

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, OpenApi};

use super::models::HealthStatus;
use super::ApiTags;
use crate::state::AppState;

/// `GET /health/ready` responses.
#[derive(ApiResponse)]
pub enum ReadyResponse {
    /// Every backend answers.
    #[oai(status = 200)]
    Ready(Json<HealthStatus>),
    /// At least one backend does not; `checks` names it.
    #[oai(status = 503)]
    Unavailable(Json<HealthStatus>),
}

/// Operations endpoints.
pub struct OpsApi;

#[OpenApi(tag = "ApiTags::Ops")]
impl OpsApi {
    /// Liveness: the process answers.
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self) -> Json<HealthStatus> {
        Json(HealthStatus {
            status: "healthy".into(),
            checks: BTreeMap::new(),
        })
    }

    /// Readiness: the database, the queue and the blob store answer.
    #[oai(path = "/health/ready", method = "get", operation_id = "readiness")]
    async fn ready(&self, state: Data<&AppState>) -> ReadyResponse {
        let results = state.readiness.check().await;
        let healthy = results.iter().all(|(_, r)| r.is_ok());
        let checks = results
            .into_iter()
            .map(|(name, result)| {
                let text = match result {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => {
                        tracing::warn!(component = name, error = %e, "readiness check failed");
                        "unavailable".to_owned()
                    }
                };
                (name.to_owned(), text)
            })
            .collect();
        if healthy {
            ReadyResponse::Ready(Json(HealthStatus {
                status: "ready".into(),
                checks,
            }))
        } else {
            ReadyResponse::Unavailable(Json(HealthStatus {
                status: "unavailable".into(),
                checks,
            }))
        }
    }

    /// Prometheus metrics (text exposition format).
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(&self, state: Data<&AppState>) -> PlainText<String> {
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
        PlainText(crate::telemetry::render_metrics())
    }
}
