//! Where a store's events get their trace context ([`TraceContext`]), as a field stores can
//! derive `Clone`, `Debug` and `Default` with (none: [`NoTraceContext`]).

use std::fmt;
use std::sync::Arc;

use anb_domain::ports::{NoTraceContext, TraceContext};

/// A shared [`TraceContext`].
#[derive(Clone)]
pub(crate) struct Tracer(Arc<dyn TraceContext>);

impl Tracer {
    /// `trace` as a store's.
    pub(crate) fn new(trace: Arc<dyn TraceContext>) -> Self {
        Self(trace)
    }

    /// The current operation's trace context, if traced.
    pub(crate) fn current(&self) -> Option<String> {
        self.0.current()
    }
}

impl Default for Tracer {
    fn default() -> Self {
        Self(Arc::new(NoTraceContext))
    }
}

impl fmt::Debug for Tracer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tracer")
    }
}
