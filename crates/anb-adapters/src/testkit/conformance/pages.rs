//! Checks for [`PageStore`]. Expiry is tested with real (short) waits, so the same checks hold
//! for stores whose clock is a server's.

use std::sync::Arc;
use std::time::Duration;

use anb_domain::ports::PageStore;
use tokio::time::sleep;

/// A time-to-live that outlives any check.
const LONG: Duration = Duration::from_secs(60);

/// Nothing put: `None`.
pub async fn a_missing_page_is_none(s: Arc<dyn PageStore>) {
    assert_eq!(s.get("rankings:missing").await.unwrap(), None);
}

/// A page reads back byte for byte, with what is left of its time-to-live.
pub async fn a_put_page_reads_back_with_what_is_left_of_its_ttl(s: Arc<dyn PageStore>) {
    let ttl = Duration::from_secs(30);
    s.put("gallery:1", b"[1,2,3]", ttl).await.unwrap();
    let page = s
        .get("gallery:1")
        .await
        .unwrap()
        .expect("the page just put");
    assert_eq!(page.bytes, b"[1,2,3]");
    assert!(
        page.expires_in > ttl - Duration::from_secs(5) && page.expires_in <= ttl,
        "{:?} left of {ttl:?}",
        page.expires_in
    );
    assert_eq!(s.get("gallery:2").await.unwrap(), None, "only its own key");
}

/// Past its time-to-live a page is gone.
pub async fn a_page_is_gone_once_its_ttl_has_passed(s: Arc<dyn PageStore>) {
    s.put("rankings:short", b"{}", Duration::from_millis(300))
        .await
        .unwrap();
    assert!(s.get("rankings:short").await.unwrap().is_some());
    sleep(Duration::from_millis(700)).await;
    assert_eq!(s.get("rankings:short").await.unwrap(), None);
}

/// A second put replaces the bytes and the time-to-live.
pub async fn putting_again_replaces_the_page_and_its_ttl(s: Arc<dyn PageStore>) {
    s.put("rankings:top", b"old", LONG).await.unwrap();
    s.put("rankings:top", b"new", Duration::from_millis(300))
        .await
        .unwrap();
    let page = s.get("rankings:top").await.unwrap().expect("the page");
    assert_eq!(page.bytes, b"new");
    assert!(page.expires_in <= Duration::from_millis(300));
}

/// A time-to-live under a millisecond stores nothing (nor replaces anything).
pub async fn a_ttl_under_a_millisecond_stores_nothing(s: Arc<dyn PageStore>) {
    s.put("gallery:none", b"x", Duration::from_micros(999))
        .await
        .unwrap();
    assert_eq!(s.get("gallery:none").await.unwrap(), None);
}
