//! The adapter conformance suite: one async check per documented port behaviour. Each check
//! takes a freshly built subject and panics when the adapter breaks the port's contract.
//!
//! Adapters run it through the macros [`repository_conformance!`](crate::repository_conformance),
//! [`queue_conformance!`](crate::queue_conformance), [`blob_conformance!`](crate::blob_conformance),
//! [`page_store_conformance!`](crate::page_store_conformance),
//! [`mailer_conformance!`](crate::mailer_conformance) and (feature `testkit-oidc`)
//! [`identity_conformance!`](crate::identity_conformance).
//! Checks use unique emails and cities, so a subject may share a database with other tests.

pub mod accounts;
pub mod blobs;
pub mod events;
#[cfg(feature = "testkit-oidc")]
pub mod identity;
pub mod mail;
pub mod pages;
pub mod queue;
pub mod renditions;
pub mod repositories;
pub mod sessions;
pub mod sharing;
pub mod stuck_videos;

/// Expands to one `#[tokio::test]` per check of `$module`, each building its subject with `$make`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($module:ident, $make:expr, [$($check:ident),* $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let subject = $make.await;
                $crate::testkit::conformance::$module::$check(subject).await;
            }
        )*
    };
}

/// Runs every repository check on the [`Repositories`](repositories::Repositories) that `$make`
/// (an async expression) builds.
#[macro_export]
macro_rules! repository_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            repositories,
            $make,
            [
                a_created_user_is_found_by_id_and_by_email,
                a_second_account_with_the_same_email_is_email_taken,
                concurrent_signups_with_one_email_create_exactly_one_account,
                missing_users_and_videos_are_none,
                an_inserted_video_reads_back_field_for_field,
                an_owners_videos_are_listed_newest_first_with_a_total,
                status_changes_follow_the_allowed_paths,
                status_changes_on_a_missing_video_are_not_found,
                completing_a_public_video_publishes_it_and_a_private_one_stays_hidden,
                progress_is_recorded_only_while_processing_and_cleared_at_the_end,
                processed_ids_page_through_processed_videos_only,
                only_processed_videos_can_be_published_or_unpublished,
                the_public_gallery_lists_only_published_videos_with_their_players,
                the_public_gallery_filters_by_city_and_search_and_sorts_by_votes_or_recency,
                the_public_gallery_filters_by_player,
                a_vote_increments_the_video_and_the_player_counters,
                a_second_vote_by_the_same_user_is_already_voted,
                voting_for_your_own_video_is_a_self_vote,
                voting_for_an_unpublished_video_is_not_votable,
                voting_for_a_missing_video_is_not_found,
                one_hundred_concurrent_votes_by_one_user_record_exactly_one,
                concurrent_votes_of_every_kind_each_get_their_own_answer,
                one_hundred_concurrent_voters_are_all_counted_and_rankings_match_a_recount,
                rankings_break_ties_by_who_reached_the_total_first_and_filter_by_place,
                rankings_positions_continue_across_pages,
                a_players_standing_is_their_place_in_the_whole_rankings,
                ranked_cities_count_the_players_and_votes_of_each_city,
                a_video_with_votes_cannot_be_deleted,
                a_published_video_cannot_be_deleted_until_unpublished,
                deleting_a_video_removes_it_and_a_missing_one_is_not_found,
            ]
        );
        $crate::__conformance_tests!(
            renditions,
            $make,
            [
                a_requested_rendition_reads_back_field_for_field_and_is_listed_with_its_video,
                asking_again_for_the_same_rendition_returns_it_and_a_failed_one_becomes_pending,
                the_limit_counts_only_renditions_waiting_or_being_made,
                concurrent_requests_by_one_owner_never_pass_the_limit_together,
                rendition_changes_follow_the_allowed_paths_and_progress_only_while_processing,
                deleting_a_video_deletes_its_renditions,
                unfinished_renditions_are_read_by_id_in_pages,
            ]
        );
        $crate::__conformance_tests!(
            accounts,
            $make,
            [
                an_email_is_marked_verified_once_and_read_back,
                a_password_hash_is_replaced,
                an_email_token_is_consumed_once_and_only_for_its_purpose,
                an_expired_email_token_is_refused,
                concurrent_consumptions_of_one_email_token_succeed_exactly_once,
                tokens_of_other_players_are_untouched,
            ]
        );
        $crate::__conformance_tests!(
            sessions,
            $make,
            [
                a_rotation_replaces_the_token_and_the_next_one_rotates_in_turn,
                a_replaced_token_presented_again_ends_its_whole_session,
                concurrent_rotations_of_one_token_rotate_exactly_once,
                an_expired_token_is_refused,
                ending_a_session_refuses_its_tokens_and_spares_the_others,
                ending_every_session_of_a_user_spares_other_users,
            ]
        );
        $crate::__conformance_tests!(
            sharing,
            $make,
            [
                a_share_is_made_once_listed_both_ways_and_removed_once,
                sharing_with_a_missing_player_or_a_missing_video_is_refused,
                videos_shared_with_a_player_are_paged_most_recent_first,
                a_share_link_is_stored_listed_and_revoked_once,
                deleting_a_video_deletes_its_shares_and_links,
                the_directory_finds_players_by_part_of_their_name_in_name_order,
                an_external_identity_links_to_one_account,
            ]
        );
        $crate::__conformance_tests!(
            events,
            $make,
            [
                a_videos_changes_leave_their_events_in_order,
                a_refused_change_leaves_no_event,
                subscribed_webhooks_get_a_pending_delivery_per_event_and_others_none,
                due_deliveries_of_one_video_are_claimed_one_at_a_time_in_order,
                a_failed_attempt_is_retried_at_its_time_and_a_final_failure_is_dead,
                an_attempt_that_outlived_its_lease_never_overwrites_the_next_claims_outcome,
                concurrent_claims_take_each_due_delivery_once,
                subscriptions_are_limited_per_owner_and_listed_and_removed_by_their_owner_only,
                concurrent_subscriptions_by_one_owner_never_pass_the_limit_together,
                a_ready_rendition_leaves_a_rendition_ready_event,
            ]
        );
        $crate::__conformance_tests!(
            stuck_videos,
            $make,
            [
                stuck_videos_are_claimed_oldest_first_once_per_deadline_by_one_sweeper,
                unfinished_videos_are_read_by_id_in_pages_with_their_status,
            ]
        );
    };
}

/// Runs the trace check on the [`Repositories`](repositories::Repositories) that `$make` (a
/// closure taking an `Arc<dyn TraceContext>` and returning a future) builds on that trace
/// context: their events, and the webhook deliveries claimed for them, carry the context of
/// the change that made them.
#[macro_export]
macro_rules! traced_event_conformance {
    ($make:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn events_and_their_deliveries_carry_the_trace_context_of_their_change() {
            $crate::testkit::conformance::events::events_and_their_deliveries_carry_the_trace_context_of_their_change(
                $make,
            )
            .await;
        }
    };
}

/// Runs every job-queue check on the `Arc<dyn JobQueue>` that `$make` (an async expression)
/// builds. Each check needs an empty queue of its own.
#[macro_export]
macro_rules! queue_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            queue,
            $make,
            [
                an_empty_queue_leases_nothing,
                an_enqueued_job_is_leased_with_its_payload_on_attempt_one,
                the_trace_context_given_at_enqueue_comes_back_on_every_lease,
                jobs_are_delivered_oldest_first,
                a_leased_job_is_not_delivered_again_while_its_lease_lives,
                an_acked_job_is_never_delivered_again,
                an_expired_lease_is_delivered_again_under_a_new_token,
                a_lost_lease_can_no_longer_ack_retry_fail_or_heartbeat,
                an_expired_lease_nobody_took_can_still_be_acked,
                a_heartbeat_keeps_the_job_leased_past_its_first_expiry,
                a_retried_job_waits_for_its_delay_and_counts_the_attempt,
                a_job_whose_workers_keep_dying_is_delivered_with_a_growing_attempt_count_until_failed,
                a_delayed_job_is_not_delivered_before_its_time,
                a_failed_job_is_never_delivered_again_and_counts_as_failed,
                depth_counts_jobs_by_state,
                concurrent_consumers_receive_each_job_exactly_once,
                a_job_whose_worker_died_goes_to_exactly_one_of_two_competing_consumers,
                enqueue_missing_adds_only_the_payloads_without_a_live_job,
                concurrent_enqueue_missing_adds_each_payload_once,
            ]
        );
    };
}

/// Runs every blob-store check on the `Arc<dyn BlobStore>` that `$make` (an async expression) builds.
#[macro_export]
macro_rules! blob_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            blobs,
            $make,
            [
                a_stored_stream_reads_back_byte_for_byte,
                a_stream_larger_than_two_parts_is_stored_whole,
                an_empty_object_can_be_stored_and_read,
                a_range_returns_exactly_those_bytes_and_is_clamped_to_the_end,
                a_range_starting_past_the_end_is_invalid_and_reports_the_size,
                head_reports_the_size,
                missing_objects_are_not_found,
                deleting_is_idempotent,
                deleting_a_prefix_removes_everything_under_it_and_counts_it,
                deleting_a_prefix_spares_keys_that_merely_start_with_the_same_characters,
                deleting_a_prefix_spares_the_object_named_exactly_like_it,
                deleting_a_prefix_with_nothing_under_it_deletes_nothing,
                deleting_a_prefix_again_deletes_nothing,
                a_put_whose_stream_fails_leaves_nothing_behind,
                putting_again_replaces_the_object,
                a_download_url_is_presigned_for_the_future_or_served_by_the_api,
            ]
        );
    };
}

/// Runs every page-store check on the `Arc<dyn PageStore>` that `$make` (an async expression)
/// builds. Each check needs an empty store of its own.
#[macro_export]
macro_rules! page_store_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            pages,
            $make,
            [
                a_missing_page_is_none,
                a_put_page_reads_back_with_what_is_left_of_its_ttl,
                a_page_is_gone_once_its_ttl_has_passed,
                putting_again_replaces_the_page_and_its_ttl,
                a_ttl_under_a_millisecond_stores_nothing,
            ]
        );
    };
}

/// Runs every mailer check on the [`MailSubject`](mail::MailSubject) that `$make` (an async
/// expression) builds: a mailer and the mailbox its messages arrive in, empty.
#[macro_export]
macro_rules! mailer_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            mail,
            $make,
            [
                a_sent_message_arrives_with_its_recipient_subject_and_text_intact,
                several_messages_all_arrive,
                concurrent_sends_all_arrive,
                a_line_break_in_the_subject_adds_no_header,
            ]
        );
    };
}

/// Runs every `IdentityProvider` check against the real test OpenID provider
/// ([`oidc_provider`](crate::testkit::oidc_provider); `ANB_TEST_OIDC_PROVIDER`), with the adapter
/// `$make` builds for an `OpenIdConfig` (a closure returning `Arc<dyn IdentityProvider>`).
#[cfg(feature = "testkit-oidc")]
#[macro_export]
macro_rules! identity_conformance {
    ($make:expr) => {
        $crate::__conformance_tests!(
            identity,
            async { $make },
            [
                the_code_flow_returns_the_accounts_subject_and_verified_email,
                an_unverified_email_comes_back_unverified,
                claims_missing_from_the_id_token_come_from_userinfo,
                a_wrong_state_is_a_state_mismatch,
                a_pending_login_with_another_nonce_is_refused,
                a_wrong_pkce_verifier_is_refused_by_the_provider,
                a_code_used_twice_is_refused,
                another_clients_secret_is_refused,
                a_tampered_id_token_is_refused,
                an_unreachable_issuer_is_unavailable_and_a_later_call_tries_again,
                a_native_client_may_come_back_to_any_loopback_port,
            ]
        );
    };
}
