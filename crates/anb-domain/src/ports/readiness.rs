use async_trait::async_trait;

/// Whether the backends answer now: what a readiness probe (`/health/ready`) reports, and what
/// a load balancer or an orchestrator acts on. The composition of adapters implements it; each
/// check is bounded in time by the implementation.
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// Each backend's name (`database`, `queue`, `blobs`, …) and whether it answers, with the
    /// reason when it does not. Ready when every one is `Ok`.
    async fn check(&self) -> Vec<(&'static str, anyhow::Result<()>)>;
}
