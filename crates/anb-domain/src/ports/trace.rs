/// Where the caller's trace context comes from, so a job carries it to the worker: one trace
/// then spans the request that enqueued a job and the worker that runs it.
///
/// The context is opaque text to the domain and the queues (the HTTP service and the worker
/// write and read it as a W3C `traceparent`). The domain only asks for it when it enqueues a
/// job ([`JobQueue::enqueue`](crate::ports::JobQueue::enqueue)); queues store it beside the
/// payload and hand it back on lease ([`LeasedJob::trace_context`](crate::LeasedJob)).
pub trait TraceContext: Send + Sync + 'static {
    /// The context of the current operation, or `None` when nothing is traced.
    fn current(&self) -> Option<String>;
}

/// No tracing: jobs carry no context.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTraceContext;

impl TraceContext for NoTraceContext {
    fn current(&self) -> Option<String> {
        None
    }
}
