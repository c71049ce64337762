//! Feeds one upload to two consumers (the blob store and the probe) as it arrives, counting
//! bytes and cutting it off past the size limit. Pure stream plumbing: bounded channels give
//! back-pressure, so memory holds a few chunks, never the file.

use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

use crate::blob::ByteStream;

/// Chunks buffered per consumer.
const CHANNEL_DEPTH: usize = 4;

/// How pumping the upload ended.
#[derive(Debug)]
pub(crate) enum PumpEnd {
    /// The whole body went through.
    Complete,
    /// The body passed `limit` bytes and was cut off.
    TooLarge,
    /// The body itself failed (client went away, broken multipart).
    SourceFailed(std::io::Error),
    /// The store side stopped reading (its own error tells why).
    StoreGone,
}

/// Splits `body` into a stream for the store and one for the probe, and returns the pump that
/// drives both; run the three together.
pub(crate) fn tee_with_limit(
    mut body: ByteStream,
    limit: u64,
) -> (
    impl std::future::Future<Output = PumpEnd> + Send,
    ByteStream,
    ByteStream,
) {
    let (mut to_store, store_rx) = mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_DEPTH);
    let (mut to_probe, probe_rx) = mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_DEPTH);
    let pump = async move {
        let mut total: u64 = 0;
        let mut probe_open = true;
        while let Some(item) = body.next().await {
            let chunk = match item {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = to_store.send(Err(aborted("upload stream failed"))).await;
                    let _ = to_probe.send(Err(aborted("upload stream failed"))).await;
                    return PumpEnd::SourceFailed(error);
                }
            };
            total += chunk.len() as u64;
            if total > limit {
                let _ = to_store.send(Err(aborted("upload too large"))).await;
                let _ = to_probe.send(Err(aborted("upload too large"))).await;
                return PumpEnd::TooLarge;
            }
            // The probe may stop early (it has seen enough, or failed); the store must see all.
            if probe_open && to_probe.send(Ok(chunk.clone())).await.is_err() {
                probe_open = false;
            }
            if to_store.send(Ok(chunk)).await.is_err() {
                return PumpEnd::StoreGone;
            }
        }
        PumpEnd::Complete
    };
    (pump, Box::pin(store_rx), Box::pin(probe_rx))
}

fn aborted(what: &'static str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::Interrupted, what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn body(chunks: Vec<std::io::Result<Bytes>>) -> ByteStream {
        Box::pin(stream::iter(chunks))
    }

    async fn collect(s: ByteStream) -> (Vec<u8>, bool) {
        let items: Vec<_> = s.collect().await;
        let failed = items.iter().any(Result::is_err);
        let bytes = items.into_iter().filter_map(Result::ok).flatten().collect();
        (bytes, failed)
    }

    #[tokio::test]
    async fn both_consumers_get_every_byte_in_order() {
        let chunks: Vec<_> = (0..50u8).map(|i| Ok(Bytes::from(vec![i; 1000]))).collect();
        let (pump, a, b) = tee_with_limit(body(chunks), 50_000);
        let (end, (a, af), (b, bf)) = futures::join!(pump, collect(a), collect(b));
        assert!(matches!(end, PumpEnd::Complete));
        assert_eq!(a, b);
        assert_eq!(a.len(), 50_000);
        assert!(!af && !bf);
        assert_eq!(a[49_999], 49);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_cut_off_and_both_sides_see_an_error() {
        let chunks: Vec<_> = (0..10).map(|_| Ok(Bytes::from(vec![0; 100]))).collect();
        let (pump, a, b) = tee_with_limit(body(chunks), 550);
        let (end, (a, af), (_, bf)) = futures::join!(pump, collect(a), collect(b));
        assert!(matches!(end, PumpEnd::TooLarge));
        assert!(af && bf);
        assert_eq!(a.len(), 500);
    }

    #[tokio::test]
    async fn a_probe_that_stops_reading_does_not_stall_the_store() {
        let chunks: Vec<_> = (0..100).map(|_| Ok(Bytes::from(vec![1; 10]))).collect();
        let (pump, a, b) = tee_with_limit(body(chunks), 10_000);
        drop(b);
        let (end, (a, _)) = futures::join!(pump, collect(a));
        assert!(matches!(end, PumpEnd::Complete));
        assert_eq!(a.len(), 1000);
    }
}
