//! Checks for [`BlobStore`].

use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::{BlobError, BlobStore};
use anb_domain::{BlobKey, ByteStream, DownloadUrl};
use bytes::Bytes;
use futures::TryStreamExt;

use crate::testkit::{pseudo_random_bytes, unique};

fn key(name: &str) -> BlobKey {
    BlobKey::new(format!("conformance/{}/{name}", unique("k"))).unwrap()
}

fn stream_of(data: &[u8], chunk: usize) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = data
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

async fn read(
    blobs: &dyn BlobStore,
    key: &BlobKey,
    range: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let object = blobs.get(key, range).await.unwrap();
    let chunks: Vec<Bytes> = object.body.try_collect().await.unwrap();
    chunks.concat()
}

/// A multi-chunk stream is stored and read back unchanged; `put` returns its size.
pub async fn a_stored_stream_reads_back_byte_for_byte(b: Arc<dyn BlobStore>) {
    let data = pseudo_random_bytes(3 * 1024 * 1024 + 17, 1);
    let k = key("clip.mp4");
    assert_eq!(
        b.put(&k, stream_of(&data, 64 * 1024)).await.unwrap(),
        data.len() as u64
    );
    let object = b.get(&k, None).await.unwrap();
    assert_eq!(object.meta.size, data.len() as u64);
    assert_eq!(object.range, 0..data.len() as u64);
    assert_eq!(read(&*b, &k, None).await, data);
}

/// A stream of over two multipart parts (8 MiB each) arrives whole.
pub async fn a_stream_larger_than_two_parts_is_stored_whole(b: Arc<dyn BlobStore>) {
    let data = pseudo_random_bytes(20 * 1024 * 1024 + 5, 2);
    let k = key("big.mp4");
    assert_eq!(
        b.put(&k, stream_of(&data, 1024 * 1024)).await.unwrap(),
        data.len() as u64
    );
    assert_eq!(b.head(&k).await.unwrap().size, data.len() as u64);
    assert_eq!(read(&*b, &k, None).await, data);
}

/// Zero bytes are an object too.
pub async fn an_empty_object_can_be_stored_and_read(b: Arc<dyn BlobStore>) {
    let k = key("empty");
    assert_eq!(b.put(&k, stream_of(&[], 1)).await.unwrap(), 0);
    assert_eq!(b.head(&k).await.unwrap().size, 0);
    assert!(read(&*b, &k, None).await.is_empty());
}

/// `get` with a range returns that slice and says which; an end past the object is clamped.
pub async fn a_range_returns_exactly_those_bytes_and_is_clamped_to_the_end(b: Arc<dyn BlobStore>) {
    let data = pseudo_random_bytes(100_000, 3);
    let k = key("ranged");
    b.put(&k, stream_of(&data, 10_000)).await.unwrap();
    let object = b.get(&k, Some(1_000..2_500)).await.unwrap();
    assert_eq!(object.range, 1_000..2_500);
    assert_eq!(object.meta.size, 100_000);
    assert_eq!(read(&*b, &k, Some(1_000..2_500)).await, &data[1_000..2_500]);
    let tail = b.get(&k, Some(99_990..200_000)).await.unwrap();
    assert_eq!(tail.range, 99_990..100_000);
    assert_eq!(read(&*b, &k, Some(99_990..200_000)).await, &data[99_990..]);
}

/// A range starting at or past the end is `InvalidRange` with the object's size.
pub async fn a_range_starting_past_the_end_is_invalid_and_reports_the_size(b: Arc<dyn BlobStore>) {
    let k = key("short");
    b.put(&k, stream_of(b"0123456789", 4)).await.unwrap();
    for range in [10..20, 50..60] {
        match b.get(&k, Some(range.clone())).await {
            Err(BlobError::InvalidRange { size }) => assert_eq!(size, 10),
            other => panic!("{range:?}: {other:?}"),
        }
    }
}

/// `head` reports the size and, where recorded, a recent modification time.
pub async fn head_reports_the_size(b: Arc<dyn BlobStore>) {
    let k = key("head");
    b.put(&k, stream_of(&[7u8; 4096], 1000)).await.unwrap();
    let meta = b.head(&k).await.unwrap();
    assert_eq!(meta.size, 4096);
    if let Some(at) = meta.last_modified {
        assert!((chrono::Utc::now() - at).num_seconds().abs() < 300);
    }
}

/// Reading what is not there is `NotFound`.
pub async fn missing_objects_are_not_found(b: Arc<dyn BlobStore>) {
    let k = key("missing");
    assert!(matches!(b.get(&k, None).await, Err(BlobError::NotFound)));
    assert!(matches!(
        b.get(&k, Some(0..10)).await,
        Err(BlobError::NotFound)
    ));
    assert!(matches!(b.head(&k).await, Err(BlobError::NotFound)));
}

/// Deleting removes the object; deleting again (or something never stored) succeeds.
pub async fn deleting_is_idempotent(b: Arc<dyn BlobStore>) {
    let k = key("doomed");
    b.put(&k, stream_of(b"bye", 3)).await.unwrap();
    b.delete(&k).await.unwrap();
    assert!(matches!(b.head(&k).await, Err(BlobError::NotFound)));
    b.delete(&k).await.unwrap();
    b.delete(&key("never")).await.unwrap();
}

/// Stores a small object under each of `keys`.
async fn put_all(b: &dyn BlobStore, keys: &[BlobKey]) {
    for k in keys {
        b.put(k, stream_of(k.as_str().as_bytes(), 16))
            .await
            .unwrap();
    }
}

/// Whether an object is stored under `k`.
async fn exists(b: &dyn BlobStore, k: &BlobKey) -> bool {
    match b.head(k).await {
        Ok(_) => true,
        Err(BlobError::NotFound) => false,
        Err(e) => panic!("{k}: {e:?}"),
    }
}

/// A video's stream outputs, as [`BlobKey::streams`] lays them out, under `prefix`.
fn ladder(prefix: &BlobKey) -> Vec<BlobKey> {
    let mut keys = vec![
        prefix.join("master.m3u8").unwrap(),
        prefix.join("storyboard.jpg").unwrap(),
    ];
    for rung in ["360p", "720p"] {
        keys.push(prefix.join(&format!("{rung}/index.m3u8")).unwrap());
        keys.push(prefix.join(&format!("{rung}/init.mp4")).unwrap());
        for segment in 1..=4 {
            keys.push(
                prefix
                    .join(&format!("{rung}/seg-{segment:05}.m4s"))
                    .unwrap(),
            );
        }
    }
    keys
}

/// `delete_prefix` deletes every object under the prefix, however deep, and says how many.
pub async fn deleting_a_prefix_removes_everything_under_it_and_counts_it(b: Arc<dyn BlobStore>) {
    let prefix = key("streams").join("abc").unwrap();
    let keys = ladder(&prefix);
    put_all(&*b, &keys).await;
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), keys.len() as u64);
    for k in &keys {
        assert!(!exists(&*b, k).await, "{k} survived");
    }
}

/// The prefix ends at a segment boundary: `…/abc` spares `…/abcd/…`, `…/abc-old` and `…/ab/…`.
pub async fn deleting_a_prefix_spares_keys_that_merely_start_with_the_same_characters(
    b: Arc<dyn BlobStore>,
) {
    let root = key("streams");
    let prefix = root.join("abc").unwrap();
    let doomed = prefix.join("720p/seg-00001.m4s").unwrap();
    let spared = [
        root.join("abcd/720p/seg-00001.m4s").unwrap(),
        root.join("abcd/master.m3u8").unwrap(),
        root.join("abc-old").unwrap(),
        root.join("abc.m3u8").unwrap(),
        root.join("ab/c").unwrap(),
    ];
    put_all(&*b, std::slice::from_ref(&doomed)).await;
    put_all(&*b, &spared).await;
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), 1);
    assert!(!exists(&*b, &doomed).await);
    for k in &spared {
        assert!(exists(&*b, k).await, "{k} was deleted");
    }
}

/// An object named exactly like the prefix is not under it. (A file system cannot hold both a
/// file `…/abc` and files under `…/abc/`, so this prefix has nothing else under it.)
pub async fn deleting_a_prefix_spares_the_object_named_exactly_like_it(b: Arc<dyn BlobStore>) {
    let root = key("streams");
    let prefix = root.join("abc").unwrap();
    let sibling = root.join("abcd/x").unwrap();
    put_all(&*b, &[prefix.clone(), sibling.clone()]).await;
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), 0);
    assert!(exists(&*b, &prefix).await);
    assert!(exists(&*b, &sibling).await);
}

/// A prefix with nothing under it (never used) deletes nothing and succeeds.
pub async fn deleting_a_prefix_with_nothing_under_it_deletes_nothing(b: Arc<dyn BlobStore>) {
    let root = key("streams");
    let neighbour = root.join("other/master.m3u8").unwrap();
    put_all(&*b, std::slice::from_ref(&neighbour)).await;
    assert_eq!(
        b.delete_prefix(&root.join("abc").unwrap()).await.unwrap(),
        0
    );
    assert_eq!(b.delete_prefix(&key("never")).await.unwrap(), 0);
    assert!(exists(&*b, &neighbour).await);
}

/// Deleting a prefix again finds nothing left and succeeds with 0 (idempotent).
pub async fn deleting_a_prefix_again_deletes_nothing(b: Arc<dyn BlobStore>) {
    let prefix = key("streams").join("abc").unwrap();
    let keys = ladder(&prefix);
    put_all(&*b, &keys).await;
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), keys.len() as u64);
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), 0);
    // Storing under it afterwards works, and only the new object is there to delete.
    put_all(&*b, &keys[..1]).await;
    assert_eq!(b.delete_prefix(&prefix).await.unwrap(), 1);
}

/// A stream that fails midway (a client that went away) is `Source`, and leaves no object.
pub async fn a_put_whose_stream_fails_leaves_nothing_behind(b: Arc<dyn BlobStore>) {
    let k = key("broken");
    let mut chunks: Vec<std::io::Result<Bytes>> = (0..20)
        .map(|i| Ok(Bytes::from(pseudo_random_bytes(1024 * 1024, i))))
        .collect();
    chunks.push(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "client went away",
    )));
    let broken: ByteStream = Box::pin(futures::stream::iter(chunks));
    assert!(matches!(b.put(&k, broken).await, Err(BlobError::Source(_))));
    assert!(matches!(b.head(&k).await, Err(BlobError::NotFound)));
}

/// A second `put` under a key replaces the first object entirely.
pub async fn putting_again_replaces_the_object(b: Arc<dyn BlobStore>) {
    let k = key("twice");
    b.put(&k, stream_of(&pseudo_random_bytes(50_000, 4), 7_000))
        .await
        .unwrap();
    b.put(&k, stream_of(b"short now", 4)).await.unwrap();
    assert_eq!(read(&*b, &k, None).await, b"short now");
    assert_eq!(b.head(&k).await.unwrap().size, 9);
}

/// A download URL is either presigned and valid for the asked time, or served by the API.
pub async fn a_download_url_is_presigned_for_the_future_or_served_by_the_api(
    b: Arc<dyn BlobStore>,
) {
    let k = key("shared");
    b.put(&k, stream_of(b"watch me", 8)).await.unwrap();
    match b.download_url(&k, Duration::from_secs(600)).await.unwrap() {
        DownloadUrl::Presigned { url, expires_at } => {
            assert!(url.starts_with("http"));
            let left = expires_at - chrono::Utc::now();
            assert!(
                left > chrono::Duration::seconds(500) && left <= chrono::Duration::seconds(600)
            );
        }
        DownloadUrl::ServedByApi => {}
    }
}
